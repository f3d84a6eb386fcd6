package dnsclient

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzCheckReduce feeds any bytes, as a datagram would bring them, through
// what this package does with a message after miekg/dns unpacked it: the
// check that it is the reply to the query, and the reduction to a Reply.
// Neither may panic; a message that is not the reply must be a mismatch
// or a malformed reply; a reduced reply holds no more records than the
// message.
func FuzzCheckReduce(f *testing.F) {
	q := newQuery("db-1.example.test.", dns.TypeA, false)
	for _, m := range []*dns.Msg{
		replyTo(q, rrA("db-1.example.test.", "192.0.2.1")),
		replyTo(q, rrAAAA("db-1.example.test.", "2001:db8::1"), &dns.CNAME{Hdr: rh("x.", dns.TypeCNAME), Target: "Y."}),
		q,
	} {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := new(dns.Msg)
		err := r.Unpack(b)
		if len(b) < 12 {
			r = nil // ReadMsg returns no message for less than a header
		}
		m, err := check(q, r, err)
		if err != nil {
			if m != nil {
				t.Fatalf("a message and an error: %v", err)
			}
			return
		}
		if m.Id != q.Id || !m.Response || m.Question[0].Qtype != dns.TypeA {
			t.Fatalf("accepted a message that is not the reply: %v", m)
		}
		rep := reduce(m)
		if len(rep.Answer) > len(m.Answer) || len(rep.Authority) > len(m.Ns) {
			t.Fatalf("reduced to more records than the message had")
		}
	})
}
