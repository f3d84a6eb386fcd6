package rfc2136

import (
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Owner says which instance registered a name. It is written as one TXT
// record at OwnerName(name), in the same UPDATE as the addresses:
//
//	_ec2boot.web.example.com. 300 IN TXT "heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z"
//
// The value follows external-dns's TXT registry (comma-separated key=value
// pairs behind a heritage marker); a TXT without "heritage=ec2boot" is
// someone else's and parses as no owner. The record lives under its own
// label so that it never meets a CNAME or the name's own TXT (SPF and the
// like).
type Owner struct {
	InstanceID string
	LaunchTime time.Time
}

// ownerLabel prefixes the owned name.
const ownerLabel = "_ec2boot."

// OwnerName is where the ownership TXT of name lives.
func OwnerName(name string) string { return ownerLabel + dns.CanonicalName(name) }

// Value is the TXT string.
func (o Owner) Value() string {
	return "heritage=ec2boot,ec2boot/instance-id=" + o.InstanceID + ",ec2boot/launch-time=" + o.LaunchTime.UTC().Format(time.RFC3339)
}

// RR is the ownership TXT record of name.
func (o Owner) RR(name string, ttl uint32) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: OwnerName(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
		Txt: []string{o.Value()}}
}

// ParseOwner reads an ownership TXT value; ok is false for a TXT that is
// not ec2boot's or is incomplete.
func ParseOwner(v string) (o Owner, ok bool) {
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

// ownerOf finds ec2boot's owner among the TXT records read at OwnerName.
func ownerOf(rrs []dns.RR) *Owner {
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok {
			if o, ok := ParseOwner(strings.Join(t.Txt, "")); ok {
				return &o
			}
		}
	}
	return nil
}

// OwnerRRs returns the prerequisites and updates that make o the owner of
// name, given the TXT set old read at OwnerName(name): the set must still
// be exactly old (or absent when old is empty), then it is replaced. Added
// to an address UPDATE, the name and its owner change together or not at
// all. Deciding whether o may take the name over ("newer launch wins") is
// the caller's business: it sees the previous owner in Result.PrevOwner.
func OwnerRRs(name string, o Owner, old []dns.RR, ttl uint32) (prereq, update []dns.RR) {
	on := OwnerName(name)
	if len(old) == 0 {
		prereq = []dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: on, Rrtype: dns.TypeTXT, Class: dns.ClassNONE}}}
	} else {
		for _, rr := range old {
			c := dns.Copy(rr)
			c.Header().Class, c.Header().Ttl = dns.ClassINET, 0
			prereq = append(prereq, c)
		}
	}
	update = []dns.RR{
		&dns.ANY{Hdr: dns.RR_Header{Name: on, Rrtype: dns.TypeTXT, Class: dns.ClassANY}},
		o.RR(name, ttl),
	}
	return prereq, update
}
