package awsapi

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestFeedsDNS: what the API accepts is what a resolver sees, through
// the in-process authoritative server and through BIND (RFC 2136 with
// TSIG); a refused batch reaches neither.
func TestFeedsDNS(t *testing.T) {
	const zoneName = "fleet.example.test"
	backends := map[string]func(t *testing.T) (Backend, string){
		"authdns": func(t *testing.T) (Backend, string) {
			a := authdns.New(zoneName)
			if err := a.Start("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Close() })
			return a, a.Addr()
		},
		"bind": func(t *testing.T) (Backend, string) {
			b := bind.Start(t, zoneName)
			return b, b.Addr
		},
	}
	steps := []struct {
		name  string
		batch *types.ChangeBatch
		ok    bool
		want  map[string][]string // name -> sorted A/AAAA answers
	}{
		{"multivalue per instance", changes(
			types.ChangeActionCreate, multi(rrset("peers.fleet.example.test", types.RRTypeA, 60, "192.0.2.1"), "i-1"),
			types.ChangeActionCreate, multi(rrset("peers.fleet.example.test", types.RRTypeA, 60, "192.0.2.2"), "i-2"),
			types.ChangeActionCreate, rrset("web.fleet.example.test", types.RRTypeAaaa, 60, "2001:db8::5"),
		), true, map[string][]string{"peers": {"192.0.2.1", "192.0.2.2"}, "web": {"2001:db8::5"}}},
		{"refused batch changes nothing", changes(
			types.ChangeActionUpsert, rrset("web.fleet.example.test", types.RRTypeAaaa, 60, "2001:db8::6"),
			types.ChangeActionDelete, multi(rrset("peers.fleet.example.test", types.RRTypeA, 60, "192.0.2.9"), "i-1"),
		), false, map[string][]string{"peers": {"192.0.2.1", "192.0.2.2"}, "web": {"2001:db8::5"}}},
		{"delete one instance, move the other", changes(
			types.ChangeActionDelete, multi(rrset("peers.fleet.example.test", types.RRTypeA, 60, "192.0.2.1"), "i-1"),
			types.ChangeActionDelete, rrset("web.fleet.example.test", types.RRTypeAaaa, 60, "2001:db8::5"),
		), true, map[string][]string{"peers": {"192.0.2.2"}, "web": nil}},
	}
	for name, mk := range backends {
		t.Run(name, func(t *testing.T) {
			backend, addr := mk(t)
			s, r53, _ := peer(t, Options{Backend: backend})
			z, _ := s.AddHostedZone(zoneName, false)
			for _, st := range steps {
				_, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID), ChangeBatch: st.batch})
				if (err == nil) != st.ok {
					t.Fatalf("%s: %v", st.name, err)
				}
				got := map[string][]string{}
				for host := range st.want {
					got[host] = resolve(t, addr, host+"."+zoneName+".")
				}
				if d := cmp.Diff(st.want, got); d != "" {
					t.Errorf("%s: DNS answers (-want +got):\n%s", st.name, d)
				}
			}
		})
	}
}

// resolve asks the server for A and AAAA, as a resolver would.
func resolve(t *testing.T, addr, name string) []string {
	t.Helper()
	var out []string
	c := &dns.Client{Timeout: 2 * time.Second}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(name, qt)
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("query %s: %v", name, err)
		}
		for _, rr := range r.Answer {
			switch v := rr.(type) {
			case *dns.A:
				out = append(out, v.A.String())
			case *dns.AAAA:
				out = append(out, v.AAAA.String())
			}
		}
	}
	slices.Sort(out)
	return out
}
