package dnsclient

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Reply is a server's answer reduced to what ec2boot reads.
type Reply struct {
	// Rcode includes the extended bits of an EDNS0 OPT record.
	Rcode         int
	Authoritative bool
	// Truncated is set when the answer did not fit; Exchange has already
	// asked again over TCP, so a Truncated reply from it came over TCP.
	Truncated bool
	Answer    []Record
	// Authority holds the zone's SOA in a negative answer (NXDOMAIN or no
	// data), and NS records in a referral.
	Authority []Record
}

// Record is one resource record of class IN. Names are lower case and
// absolute. Records of types not listed below carry only Name and Type.
type Record struct {
	Name string     // owner
	Type uint16     // dns.TypeA, …
	Addr netip.Addr // A, AAAA
	// Target is the host of an NS, the target of a CNAME, or the primary
	// server (MNAME) of a SOA.
	Target string
}

// mismatchError says a message is not the reply to our query: unreadable,
// not a response, another ID or another question.
type mismatchError struct{ why string }

func (e *mismatchError) Error() string { return "not the reply to the query: " + e.why }

func isMismatch(err error) bool {
	var m *mismatchError
	return errors.As(err, &m)
}

// check decides whether r (as ReadMsg returned it, with unpackErr) is the
// reply to q. miekg/dns's own client checks the ID only; the question is
// checked here too, since a datagram with a guessed ID but another
// question is not an answer to ours. A reply that is ours but whose
// records cannot be read is an error, unless it is truncated: then it was
// cut where it did not fit, and what was read is kept.
func check(q, r *dns.Msg, unpackErr error) (*dns.Msg, error) {
	if r == nil {
		return nil, &mismatchError{unpackErr.Error()}
	}
	switch {
	case !r.Response:
		return nil, &mismatchError{"a query, not a response"}
	case r.Id != q.Id:
		return nil, &mismatchError{fmt.Sprintf("ID %d, want %d", r.Id, q.Id)}
	case len(r.Question) == 0:
		why := "no question"
		if unpackErr != nil {
			why += ": " + unpackErr.Error()
		}
		return nil, &mismatchError{why}
	}
	want, got := q.Question[0], r.Question[0]
	switch {
	case got.Qclass != want.Qclass:
		return nil, &mismatchError{fmt.Sprintf("question of class %d, not %d", got.Qclass, want.Qclass)}
	case got.Qtype != want.Qtype || !strings.EqualFold(got.Name, want.Name):
		return nil, &mismatchError{fmt.Sprintf("answers %s %s, not %s %s", got.Name, TypeText(got.Qtype), want.Name, TypeText(want.Qtype))}
	}
	if unpackErr != nil && !r.Truncated {
		return nil, fmt.Errorf("malformed reply: %w", unpackErr)
	}
	return r, nil
}

// reduce keeps what ec2boot reads of a reply.
func reduce(m *dns.Msg) *Reply {
	return &Reply{
		Rcode:         m.Rcode,
		Authoritative: m.Authoritative,
		Truncated:     m.Truncated,
		Answer:        records(m.Answer),
		Authority:     records(m.Ns),
	}
}

func records(rrs []dns.RR) []Record {
	var out []Record
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			continue
		}
		rec := Record{Name: strings.ToLower(h.Name), Type: h.Rrtype}
		switch v := rr.(type) {
		case *dns.A:
			rec.Addr, _ = netip.AddrFromSlice(v.A.To4())
		case *dns.AAAA:
			rec.Addr, _ = netip.AddrFromSlice(v.AAAA.To16())
		case *dns.CNAME:
			rec.Target = strings.ToLower(v.Target)
		case *dns.NS:
			rec.Target = strings.ToLower(v.Ns)
		case *dns.SOA:
			rec.Target = strings.ToLower(v.Ns)
		}
		out = append(out, rec)
	}
	return out
}
