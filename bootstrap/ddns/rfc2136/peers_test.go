package rfc2136

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
	"github.com/ec2boot/ec2boot/internal/testpeer/knot"
)

// BindPolicy and KnotACL are the server configurations docs/dns.md shows;
// TestDocsShowTheTestedPolicies keeps the two in step.
const BindPolicy = `grant web-key name web.example.test. A AAAA;
grant web-key name _ec2boot.web.example.test. TXT;`

const KnotACL = `  - id: web-update
    key: web-key
    action: update
    update-type: [A, AAAA, TXT]
    update-owner: name
    update-owner-match: equal
    update-owner-name: [web, _ec2boot.web]`

// otherWriter is a second key that may change anything: the "other
// writer" of the race tests.
const otherWriter = "other-key"

// peer is one running server with the keys above.
type peer struct {
	kind    string // "bind" or "knot"
	addr    string
	secrets map[string]string
	dir     string
}

var peerKinds = []string{"bind", "knot"}

func startPeer(t *testing.T, kind string) peer {
	t.Helper()
	switch kind {
	case "bind":
		s := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"web-key", otherWriter},
			UpdatePolicy: BindPolicy + "\ngrant " + otherWriter + " zonesub ANY;"})
		return peer{kind: kind, addr: s.Addr, secrets: s.Secrets, dir: s.Dir}
	default:
		s := knot.Start(t, knot.Options{Zone: "example.test", Keys: []string{"web-key", otherWriter},
			ACL: KnotACL + "\n  - id: other-update\n    key: " + otherWriter + "\n    action: update\n"})
		return peer{kind: kind, addr: s.Addr, secrets: s.Secrets, dir: s.Dir}
	}
}

func (p peer) client(key string) *Client {
	return &Client{Server: p.addr, Zone: "example.test",
		Key: Key{Name: dns.Fqdn(key), Algorithm: dns.HmacSHA256, Secret: p.secrets[key]},
		TTL: 300, Timeout: 3 * time.Second, Clock: clock.Real{}}
}

// lookup returns name's records of type t as zone-file text, sorted.
func (p peer) lookup(t *testing.T, name string, qt uint16) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qt)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).Exchange(m, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	sort.Strings(out)
	return out
}

func (p peer) serial(t *testing.T) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeSOA)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).Exchange(m, p.addr)
	if err != nil || len(r.Answer) == 0 {
		t.Fatalf("SOA: %v %v", err, r)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func must(t *testing.T, rs []Result, want Class) Result {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1", len(rs))
	}
	if rs[0].Class != want {
		t.Fatalf("result %+v, want class %d", rs[0], want)
	}
	return rs[0]
}

const web = "web.example.test"

func TestPeers(t *testing.T) {
	type tc struct {
		name string
		run  func(t *testing.T, p peer)
	}
	cases := []tc{
		{"create", func(t *testing.T, p peer) {
			r := must(t, p.client("web-key").Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1", "2001:db8::1")}}), Success)
			if r.Code != "NOERROR" {
				t.Errorf("code %q", r.Code)
			}
			got := append(p.lookup(t, web, dns.TypeA), p.lookup(t, web, dns.TypeAAAA)...)
			want := []string{"web.example.test. 300 IN A 192.0.2.1", "web.example.test. 300 IN AAAA 2001:db8::1"}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
		}},
		{"create with the zone found by SOA", func(t *testing.T, p peer) {
			c := p.client("web-key")
			c.Zone = ""
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Success)
			if d := cmp.Diff([]string{"web.example.test. 300 IN A 192.0.2.1"}, p.lookup(t, web, dns.TypeA)); d != "" {
				t.Error(d)
			}
		}},
		{"create with the zone and primary found through the resolver", func(t *testing.T, p peer) {
			// The peer answers for its own zone: the SOA names the zone
			// and ns1 (the MNAME), whose address is the peer's.
			c := p.client("web-key")
			c.Zone, c.Server = "", ""
			c.Resolvers = []string{p.addr}
			_, c.Port, _ = net.SplitHostPort(p.addr)
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Success)
			if d := cmp.Diff([]string{"web.example.test. 300 IN A 192.0.2.1"}, p.lookup(t, web, dns.TypeA)); d != "" {
				t.Error(d)
			}
		}},
		{"change is a compare-and-swap", func(t *testing.T, p peer) {
			c := p.client("web-key")
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Success)
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.2")}}), Success)
			if d := cmp.Diff([]string{"web.example.test. 300 IN A 192.0.2.2"}, p.lookup(t, web, dns.TypeA)); d != "" {
				t.Error(d)
			}
		}},
		{"no change sends nothing", func(t *testing.T, p peer) {
			c := p.client("web-key")
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Success)
			before := p.serial(t)
			sent := false
			c.beforeSend = func() { sent = true }
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Success)
			if sent || r.Code != "current" || p.serial(t) != before {
				t.Errorf("sent=%v code=%q serial %d -> %d; want nothing sent", sent, r.Code, before, p.serial(t))
			}
		}},
		{"lost race on a changed name", func(t *testing.T, p peer) {
			c := p.client("web-key")
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Success)
			other := p.client(otherWriter)
			c.beforeSend = func() {
				must(t, other.Send(context.Background(), []Change{{Name: web, Addrs: addrs("198.51.100.9")}}), Success)
			}
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.2")}}), Failed)
			if r.Code != "NXRRSET" || r.Account || !strings.Contains(r.Detail, "another writer changed web.example.test") {
				t.Errorf("result %+v", r)
			}
			if d := cmp.Diff([]string{"web.example.test. 300 IN A 198.51.100.9"}, p.lookup(t, web, dns.TypeA)); d != "" {
				t.Errorf("the other writer's value was overwritten:\n%s", d)
			}
			// The next run reads again and wins cleanly.
			c.beforeSend = nil
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.2")}}), Success)
		}},
		{"lost race on a new name", func(t *testing.T, p peer) {
			c := p.client("web-key")
			other := p.client(otherWriter)
			c.beforeSend = func() {
				must(t, other.Send(context.Background(), []Change{{Name: web, Addrs: addrs("198.51.100.9")}}), Success)
			}
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.2")}}), Failed)
			if r.Code != "YXDOMAIN" {
				t.Errorf("code %q, want YXDOMAIN", r.Code)
			}
			if d := cmp.Diff([]string{"web.example.test. 300 IN A 198.51.100.9"}, p.lookup(t, web, dns.TypeA)); d != "" {
				t.Error(d)
			}
		}},
		{"denied name", func(t *testing.T, p peer) {
			r := must(t, p.client("web-key").Send(context.Background(), []Change{{Name: "db.example.test", Addrs: addrs("192.0.2.1")}}), Sticky)
			want := map[string]string{"bind": "REFUSED", "knot": "NOTAUTH(BADKEY)"}[p.kind]
			if r.Code != want || r.Account {
				t.Errorf("code %q account %v, want %q for the name", r.Code, r.Account, want)
			}
			if !strings.Contains(r.Detail, "does not let key web-key change db.example.test") {
				t.Errorf("detail %q", r.Detail)
			}
			if got := p.lookup(t, "db.example.test", dns.TypeA); len(got) != 0 {
				t.Errorf("denied name written: %v", got)
			}
		}},
		{"one denied name does not block the others", func(t *testing.T, p peer) {
			rs := p.client("web-key").Send(context.Background(), []Change{
				{Name: "db.example.test", Addrs: addrs("192.0.2.9")}, {Name: web, Addrs: addrs("192.0.2.1")}})
			got := []Class{rs[0].Class, rs[1].Class}
			if d := cmp.Diff([]Class{Sticky, Success}, got); d != "" {
				t.Errorf("classes (-want +got):\n%s\n%+v", d, rs)
			}
			if !strings.Contains(rs[0].Detail, "change db.example.test:") {
				t.Errorf("detail %q does not name only the denied name", rs[0].Detail)
			}
			if d := cmp.Diff([]string{"web.example.test. 300 IN A 192.0.2.1"}, p.lookup(t, web, dns.TypeA)); d != "" {
				t.Error(d)
			}
		}},
		{"wrong secret", func(t *testing.T, p peer) {
			c := p.client("web-key")
			c.Key.Secret = p.secrets[otherWriter]
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Sticky)
			if r.Code != "NOTAUTH(BADSIG)" || !r.Account || !strings.Contains(r.Detail, "rejects the signature of key web-key") {
				t.Errorf("result %+v", r)
			}
		}},
		{"clock ten minutes ahead", func(t *testing.T, p peer) {
			c := p.client("web-key")
			c.Clock = clock.NewFake(time.Now().Add(10 * time.Minute))
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}}), Failed)
			m := regexp.MustCompile(`our clock is (\d+) s ahead of`).FindStringSubmatch(r.Detail)
			if r.Code != "NOTAUTH(BADTIME)" || m == nil {
				t.Fatalf("result %+v", r)
			}
			if n, _ := strconv.Atoi(m[1]); n < 595 || n > 605 {
				t.Errorf("skew %d s, want about 600", n)
			}
		}},
		{"the rendered update is what nsupdate sends", func(t *testing.T, p peer) {
			// The same change through our client and through nsupdate
			// (fed our Describe text) leaves the same zone.
			ch := []Change{{Name: web, Addrs: addrs("192.0.2.1", "2001:db8::1")}}
			must(t, p.client("web-key").Send(context.Background(), ch), Success)
			ours := p.axfr(t)
			q := startPeer(t, p.kind)
			q.nsupdate(t, "web-key", q.client("web-key").Describe(ch))
			if d := cmp.Diff(ours, q.axfr(t)); d != "" {
				t.Errorf("zone after our update vs nsupdate's (-ours +nsupdate):\n%s", d)
			}
		}},
		{"owner record taken between read and update", func(t *testing.T, p peer) {
			c := p.client("web-key")
			mine := Owner{InstanceID: "i-0aaaaaaaaaaaaaaa1", LaunchTime: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
			theirs := Owner{InstanceID: "i-0bbbbbbbbbbbbbbb2", LaunchTime: mine.LaunchTime.Add(time.Hour)}
			c.beforeSend = func() {
				// The other writer claims the ownership record only; the
				// address prerequisites alone would still hold.
				m := new(dns.Msg)
				m.SetUpdate("example.test.")
				m.Insert([]dns.RR{OwnerRR(theirs, web, 300)})
				m.SetTsig(otherWriter+".", dns.HmacSHA256, 300, time.Now().Unix())
				cl := &dns.Client{Net: "tcp", TsigSecret: map[string]string{otherWriter + ".": p.secrets[otherWriter]}}
				if r, _, err := cl.Exchange(m, p.addr); err != nil || r.Rcode != dns.RcodeSuccess {
					t.Fatalf("other writer: %v %v", err, r)
				}
			}
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1"), Owner: &mine}}), Failed)
			if r.Code != "YXRRSET" {
				t.Errorf("code %q, want YXRRSET (the record must still be absent)", r.Code)
			}
			if got := p.lookup(t, "_ec2boot."+web, dns.TypeTXT); len(got) != 1 || !strings.Contains(got[0], theirs.InstanceID) {
				t.Errorf("owner TXT %v, want only the other writer's", got)
			}
			if got := p.lookup(t, web, dns.TypeA); len(got) != 0 {
				t.Errorf("address written although the owner race was lost: %v", got)
			}
		}},
		{"a stale expected owner is not sent", func(t *testing.T, p peer) {
			c := p.client("web-key")
			first := Owner{InstanceID: "i-0aaaaaaaaaaaaaaa1", LaunchTime: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
			must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1"), Owner: &first}}), Success)
			second := Owner{InstanceID: "i-0bbbbbbbbbbbbbbb2", LaunchTime: first.LaunchTime.Add(time.Hour)}
			sent := false
			c.beforeSend = func() { sent = true }
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.2"), Owner: &second, CheckOwner: true}}), Failed)
			if sent || r.Code != "owner-changed" || r.PrevOwner == nil || r.PrevOwner.InstanceID != first.InstanceID {
				t.Errorf("sent=%v result %+v", sent, r)
			}
		}},
		{"owner TXT in the same update", func(t *testing.T, p peer) {
			c := p.client("web-key")
			first := Owner{InstanceID: "i-0aaaaaaaaaaaaaaa1", LaunchTime: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
			r := must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1"), Owner: &first}}), Success)
			if r.PrevOwner != nil {
				t.Errorf("previous owner %+v on a new name", r.PrevOwner)
			}
			want := []string{`_ec2boot.web.example.test. 300 IN TXT "heritage=ec2boot,ec2boot/instance-id=i-0aaaaaaaaaaaaaaa1,ec2boot/launch-time=2026-12-07T04:00:00Z"`}
			if d := cmp.Diff(want, p.lookup(t, "_ec2boot."+web, dns.TypeTXT)); d != "" {
				t.Error(d)
			}
			second := Owner{InstanceID: "i-0bbbbbbbbbbbbbbb2", LaunchTime: first.LaunchTime.Add(time.Hour)}
			r = must(t, c.Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.2"), Owner: &second}}), Success)
			if d := cmp.Diff(&first, r.PrevOwner); d != "" {
				t.Errorf("previous owner (-want +got):\n%s", d)
			}
			if got := p.lookup(t, "_ec2boot."+web, dns.TypeTXT); len(got) != 1 || !strings.Contains(got[0], "i-0bbbbbbbbbbbbbbb2") {
				t.Errorf("owner TXT %v", got)
			}
		}},
	}
	for _, kind := range peerKinds {
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				p := startPeer(t, kind)
				c.run(t, p)
			})
		}
	}
}

// axfr returns the zone's records as text, sorted.
func (p peer) axfr(t *testing.T) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetAxfr("example.test.")
	tr := &dns.Transfer{}
	ch, err := tr.In(m, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for env := range ch {
		if env.Error != nil {
			t.Fatal(env.Error)
		}
		for _, rr := range env.RR {
			s := strings.ReplaceAll(rr.String(), "\t", " ")
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// nsupdate feeds the Describe text to BIND's nsupdate, signed with key.
func (p peer) nsupdate(t *testing.T, key, describe string) {
	t.Helper()
	bin, err := exec.LookPath("nsupdate")
	if err != nil {
		t.Fatal("nsupdate not found: install Debian's bind9-dnsutils package")
	}
	var script []string
	for _, l := range strings.Split(describe, "\n") {
		if strings.HasPrefix(l, ";") || strings.HasPrefix(l, "key ") {
			continue
		}
		script = append(script, l)
	}
	kf := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(kf, []byte(fmt.Sprintf("key %q { algorithm hmac-sha256; secret %q; };\n", key, p.secrets[key])), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-k", kf)
	cmd.Stdin = strings.NewReader(strings.Join(script, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate: %v: %s\nscript:\n%s", err, out, strings.Join(script, "\n"))
	}
}
