package ddns

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

// TestEndToEndThroughBind: the test server feeds a real BIND over
// TSIG-signed dynamic updates; DNS checks ask that BIND. A record changed
// out of band (nsupdate) is repaired on the next run, and no run ever
// provokes a nochg.
func TestEndToEndThroughBind(t *testing.T) {
	srv := bind.Start(t, "example.test")
	h := newHarness(t)
	h.dyn.Backend = srv
	h.check = srv.Addr
	ctx := context.Background()

	r := h.run(false)
	if r.err != nil || r.requests != 2 {
		t.Fatalf("first run: err=%v requests=%d\n%s", r.err, r.requests, srv.Log())
	}
	for name, want := range map[string]netip.Addr{"web.example.test": publicIP, "int.example.test": localIP} {
		got, err := srv.Lookup(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]netip.Addr{want}, got, addrCmp); diff != "" {
			t.Errorf("bind answers for %s (-want +got):\n%s", name, diff)
		}
	}
	if r := h.run(false); r.err != nil || r.requests != 0 {
		t.Fatalf("no-change run: err=%v requests=%d", r.err, r.requests)
	}

	// Out of band: someone points the external name elsewhere.
	if err := srv.NSUpdate(ctx, "update delete web.example.test. A\nupdate add web.example.test. 60 A 198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(10 * time.Minute)
	r = h.run(false)
	if r.err != nil || r.requests != 1 {
		t.Fatalf("repair run: err=%v requests=%d", r.err, r.requests)
	}
	if got, _ := srv.Lookup(ctx, "web.example.test"); len(got) != 1 || got[0] != publicIP {
		t.Errorf("after repair bind answers %v", got)
	}
	if r := h.run(false); r.err != nil || r.requests != 0 {
		t.Fatalf("after repair: err=%v requests=%d", r.err, r.requests)
	}
	for _, q := range h.dyn.Requests() {
		if !strings.HasPrefix(q.Answer, "good") {
			t.Errorf("request %s answered %q: every request should have changed something", q.RawQuery, q.Answer)
		}
	}
}

// TestNochgIsNeverRepeated: when the DNS asked for checks never shows what
// the provider accepted (wrong check_server, broken delegation), ec2boot
// sends at most one update that earns nochg and then stops, degraded.
func TestNochgIsNeverRepeated(t *testing.T) {
	h := newHarness(t)
	stale := authdns.New("example.test") // never fed by the provider
	if err := stale.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	h.check = stale.Addr()
	h.records = "[[dns.records]]\nname = \"web.example.test\"\naddress = \"public-ipv4\"\naccount = \"main\"\n"

	var answers []string
	for i := 0; i < 4; i++ {
		before := len(h.dyn.Requests())
		r := h.run(false)
		for _, q := range h.dyn.Requests()[before:] {
			answers = append(answers, strings.Fields(q.Answer)[0])
		}
		if i == 3 {
			if r.requests != 0 || r.err != nil || len(r.res.Degraded) != 1 || !strings.Contains(r.res.Degraded[0], "not sending again") {
				t.Errorf("run %d: requests=%d err=%v degraded=%q", i, r.requests, r.err, r.res.Degraded)
			}
		}
		h.clock.Advance(time.Hour)
	}
	if diff := cmp.Diff([]string{"good", "nochg"}, answers); diff != "" {
		t.Errorf("provider answers over four runs (-want +got):\n%s", diff)
	}
	if r := h.run(true); r.requests != 1 {
		t.Errorf("--force still sends: %d", r.requests)
	}
}

// TestAuthoritativeServersFoundThroughResolvConf: without check_server,
// the zone and its name servers are found through the resolver named in
// /etc/resolv.conf under the root, and the name server itself is asked.
func TestAuthoritativeServersFoundThroughResolvConf(t *testing.T) {
	h := newHarness(t)
	h.noCheck = true
	_, port, _ := net.SplitHostPort(h.dns.Addr())
	h.step = &Step{nsPort: port}
	if err := os.MkdirAll(h.root.Path("/etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.root.Path("/etc/resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.dns.Update(context.Background(), "web.example.test", []netip.Addr{otherIP}); err != nil {
		t.Fatal(err)
	}
	plan := h.plan()
	if !strings.Contains(plan, "mismatch: DNS says 198.51.100.7, want 203.0.113.10") {
		t.Fatalf("plan:\n%s", plan)
	}
	if r := h.run(false); r.err != nil || r.requests != 2 {
		t.Fatalf("err=%v requests=%d", r.err, r.requests)
	}
	if r := h.run(false); r.err != nil || r.requests != 0 {
		t.Fatalf("re-run: err=%v requests=%d", r.err, r.requests)
	}
}

// TestNoResolverFallsBackOnState: without any DNS to ask, a record this
// instance registered is not resent, and one it never registered is.
func TestNoResolverFallsBackOnState(t *testing.T) {
	h := newHarness(t)
	h.noCheck = true // and no resolv.conf under the root
	if r := h.run(false); r.err != nil || r.requests != 2 {
		t.Fatalf("first run: err=%v requests=%d", r.err, r.requests)
	}
	if r := h.run(false); r.err != nil || r.requests != 0 {
		t.Fatalf("second run: err=%v requests=%d", r.err, r.requests)
	}
	h.facts.PublicIPv4 = otherIP
	if plan := h.plan(); !strings.Contains(plan, "DNS check failed") {
		t.Errorf("plan:\n%s", plan)
	}
	if r := h.run(false); r.err != nil || r.requests != 1 {
		t.Fatalf("new address: err=%v requests=%d", r.err, r.requests)
	}
}

// TestDeadCheckServerIsAskedOnce: a DNS server that does not answer costs
// one query per run, not one timeout per record.
func TestDeadCheckServerIsAskedOnce(t *testing.T) {
	h := newHarness(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // silent: reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h.check = pc.LocalAddr().String()
	r := h.run(false)
	if r.err != nil || r.requests != 2 {
		t.Fatalf("err=%v requests=%d", r.err, r.requests)
	}
	if r.queries != 1 {
		t.Errorf("%d DNS queries, want 1", r.queries)
	}
}
