package route53

import (
	"strings"
	"time"
)

// Owner is who registered a name, as its ownership TXT says. The record
// lives at OwnerName(name) and holds one string in the style of
// external-dns's TXT registry:
//
//	_ec2boot.web.example.com. TXT "heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z"
//
// A TXT there without heritage=ec2boot is someone else's.
type Owner struct {
	InstanceID string
	LaunchTime time.Time
}

const ownerLabel = "_ec2boot."

// OwnerName is the name of name's ownership TXT (absolute, lower case).
func OwnerName(name string) string { return ownerLabel + fqdn(name) }

// Value is the TXT value as Route 53 stores it: one quoted string.
func (o Owner) Value() string {
	return `"heritage=ec2boot,ec2boot/instance-id=` + o.InstanceID + `,ec2boot/launch-time=` +
		o.LaunchTime.UTC().Format(time.RFC3339) + `"`
}

// ParseOwner reads a TXT value as Route 53 returns it (quoted); ok is
// false for a value that is not ec2boot's or lacks a field.
func ParseOwner(v string) (o Owner, ok bool) {
	v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
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

// fqdn is name in Route 53's form: lower case with a trailing dot.
func fqdn(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }
