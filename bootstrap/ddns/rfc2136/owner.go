package rfc2136

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/ownerrecord"
)

// Owner says which instance registered a name; the record's format is
// ownerrecord's, written as one TXT at OwnerName(name) in the same UPDATE
// as the addresses.
type Owner = ownerrecord.Owner

// OwnerName is where the ownership TXT of name lives.
func OwnerName(name string) string { return ownerrecord.Label + dns.CanonicalName(name) }

// OwnerRR is o's ownership TXT record for name.
func OwnerRR(o Owner, name string, ttl uint32) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: OwnerName(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
		Txt: []string{o.Value()}}
}

// ParseOwner reads an ownership TXT value; ok is false for a TXT that is
// not ec2boot's or is incomplete.
func ParseOwner(v string) (Owner, bool) { return ownerrecord.Parse(v) }

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
		OwnerRR(o, name, ttl),
	}
	return prereq, update
}
