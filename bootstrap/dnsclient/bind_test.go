package dnsclient

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

// TestExchangeAgainstBind asks a real BIND (the one CI and production
// zones run) what the callers ask: it is the check that the replies are
// read as a real server writes them, compression and all.
func TestExchangeAgainstBind(t *testing.T) {
	srv := bind.Start(t, "example.test")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Update(ctx, "db-1.example.test", []netip.Addr{netip.MustParseAddr("10.0.1.1"), netip.MustParseAddr("2001:db8::11")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.NSUpdate(ctx, "update add alias.example.test. 60 CNAME mid.example.test.\nupdate add mid.example.test. 60 CNAME db-1.example.test."); err != nil {
		t.Fatal(err)
	}
	// 100 addresses do not fit in 1232 bytes: BIND truncates the UDP
	// answer and the exchange must go on over TCP.
	var big []netip.Addr
	var bigAnswer []Record
	for i := range 100 {
		a := netip.AddrFrom4([4]byte{10, 9, byte(i / 250), byte(1 + i%250)})
		big = append(big, a)
		bigAnswer = append(bigAnswer, Record{Name: "big.example.test.", Type: dns.TypeA, Addr: a})
	}
	if err := srv.Update(ctx, "big.example.test", big); err != nil {
		t.Fatal(err)
	}

	soa := Record{Name: "example.test.", Type: dns.TypeSOA, Target: "ns1.example.test."}
	ns := Record{Name: "example.test.", Type: dns.TypeNS, Target: "ns1.example.test."}
	a := func(name, addr string) Record {
		r := Record{Name: name, Type: dns.TypeA, Addr: netip.MustParseAddr(addr)}
		if r.Addr.Is6() {
			r.Type = dns.TypeAAAA
		}
		return r
	}
	for _, tt := range []struct {
		name    string
		qname   string
		qtype   uint16
		recurse bool
		want    *Reply
	}{
		// Asked without RD, as the checker asks authoritative servers,
		// BIND adds the zone's NS to a positive answer's authority.
		{"A", "db-1.example.test", dns.TypeA, false,
			&Reply{Authoritative: true, Answer: []Record{a("db-1.example.test.", "10.0.1.1")}, Authority: []Record{ns}}},
		{"AAAA, name in mixed case", "DB-1.Example.TEST.", dns.TypeAAAA, true,
			&Reply{Authoritative: true, Answer: []Record{a("db-1.example.test.", "2001:db8::11")}}},
		{"CNAME chain", "alias.example.test", dns.TypeA, true,
			&Reply{Authoritative: true, Answer: []Record{
				{Name: "alias.example.test.", Type: dns.TypeCNAME, Target: "mid.example.test."},
				{Name: "mid.example.test.", Type: dns.TypeCNAME, Target: "db-1.example.test."},
				a("db-1.example.test.", "10.0.1.1"),
			}}},
		{"NXDOMAIN, SOA in authority", "gone.example.test", dns.TypeA, false,
			&Reply{Rcode: dns.RcodeNameError, Authoritative: true, Authority: []Record{soa}}},
		{"NOERROR without data, SOA in authority", "ns1.example.test", dns.TypeAAAA, true,
			&Reply{Authoritative: true, Authority: []Record{soa}}},
		{"REFUSED outside the zone", "www.elsewhere.test", dns.TypeA, true,
			&Reply{Rcode: dns.RcodeRefused}},
		{"SOA at the apex", "example.test", dns.TypeSOA, true,
			&Reply{Authoritative: true, Answer: []Record{soa}}},
		{"SOA below the apex: in authority", "db-1.example.test", dns.TypeSOA, true,
			&Reply{Authoritative: true, Authority: []Record{soa}}},
		{"NS", "example.test", dns.TypeNS, true,
			&Reply{Authoritative: true, Answer: []Record{ns}}},
		{"truncated over UDP, whole over TCP", "big.example.test", dns.TypeA, true,
			&Reply{Authoritative: true, Answer: bigAnswer}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Exchange(ctx, srv.Addr, tt.qname, tt.qtype, tt.recurse)
			if err != nil {
				t.Fatalf("%v\nnamed:\n%s", err, srv.Log())
			}
			// BIND may rotate the order of an RRset's records.
			sorted := cmpopts.SortSlices(func(x, y Record) bool { return recordKey(x) < recordKey(y) })
			if d := cmp.Diff(tt.want, got, cmpAddr, sorted); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}

	// The big answer really went through TCP: over UDP alone it is
	// truncated.
	udpCtx, cancelUDP := context.WithTimeout(ctx, 5*time.Second)
	defer cancelUDP()
	r, err := exchangeOn(udpCtx, "udp", srv.Addr, newQuery("big.example.test.", dns.TypeA, true))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Truncated || len(r.Answer) >= 100 {
		t.Errorf("UDP only: %d answers, truncated=%v; want a truncated answer", len(r.Answer), r.Truncated)
	}
}

func recordKey(r Record) string {
	return strings.Join([]string{r.Name, fmt.Sprint(r.Type), r.Addr.String(), r.Target}, " ")
}
