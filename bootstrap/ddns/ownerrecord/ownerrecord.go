// Package ownerrecord is the format of the ownership record ec2boot keeps
// next to a name it registers, the same for every provider that can store
// one (RFC 2136, Route 53): one TXT string at Label+name, in the style of
// external-dns's TXT registry,
//
//	_ec2boot.web.example.com. TXT "heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z"
//
// A TXT there without "heritage=ec2boot" is someone else's and parses as no
// owner. The record lives under its own label so that it never meets a
// CNAME or the name's own TXT (SPF and the like).
package ownerrecord

import (
	"strings"
	"time"
)

// Label prefixes the owned name.
const Label = "_ec2boot."

// Owner says which instance registered a name.
type Owner struct {
	InstanceID string
	LaunchTime time.Time
}

// Value is the TXT string, unquoted.
func (o Owner) Value() string {
	return "heritage=ec2boot,ec2boot/instance-id=" + o.InstanceID + ",ec2boot/launch-time=" + o.LaunchTime.UTC().Format(time.RFC3339)
}

// Parse reads a TXT string (unquoted); ok is false for one that is not
// ec2boot's or lacks a field.
func Parse(v string) (o Owner, ok bool) {
	fields := map[string]string{}
	for _, f := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(f, "=")
		fields[k] = val
	}
	if fields["heritage"] != "ec2boot" || fields["ec2boot/instance-id"] == "" {
		return Owner{}, false
	}
	t, err := time.Parse(time.RFC3339, fields["ec2boot/launch-time"])
	if err != nil {
		return Owner{}, false
	}
	return Owner{InstanceID: fields["ec2boot/instance-id"], LaunchTime: t}, true
}
