package authdns

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestAnswers(t *testing.T) {
	s := New("example.test")
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	if err := s.Update(context.Background(), "Web.Example.Test.", []netip.Addr{v4, v6}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), "web.other.test", []netip.Addr{v4}); err == nil {
		t.Error("update outside the zone accepted")
	}
	tests := []struct {
		name   string
		qtype  uint16
		net    string
		rcode  int
		answer string // the first answer's data, "" for none
		aa     bool
	}{
		{"web.example.test.", dns.TypeA, "udp", dns.RcodeSuccess, "192.0.2.1", true},
		{"web.example.test.", dns.TypeAAAA, "tcp", dns.RcodeSuccess, "2001:db8::1", true},
		{"web.example.test.", dns.TypeMX, "udp", dns.RcodeSuccess, "", true},
		{"none.example.test.", dns.TypeA, "udp", dns.RcodeNameError, "", true},
		{"example.test.", dns.TypeNS, "udp", dns.RcodeSuccess, "ns1.example.test.", true},
		{"ns1.example.test.", dns.TypeA, "udp", dns.RcodeSuccess, "127.0.0.1", true},
		{"example.com.", dns.TypeA, "udp", dns.RcodeRefused, "", false},
	}
	for _, tt := range tests {
		m := new(dns.Msg)
		m.SetQuestion(tt.name, tt.qtype)
		r, _, err := (&dns.Client{Net: tt.net}).Exchange(m, s.Addr())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := ""
		if len(r.Answer) > 0 {
			switch v := r.Answer[0].(type) {
			case *dns.A:
				got = v.A.String()
			case *dns.AAAA:
				got = v.AAAA.String()
			case *dns.NS:
				got = v.Ns
			}
		}
		if r.Rcode != tt.rcode || got != tt.answer || r.Authoritative != tt.aa {
			t.Errorf("%s %s: rcode %s answer %q aa %v; want %s %q %v", tt.name, dns.TypeToString[tt.qtype],
				dns.RcodeToString[r.Rcode], got, r.Authoritative, dns.RcodeToString[tt.rcode], tt.answer, tt.aa)
		}
	}
	if s.Queries() != len(tests) {
		t.Errorf("queries = %d", s.Queries())
	}
}
