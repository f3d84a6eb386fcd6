package peers

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// fakeDNS is a fault injector: names map to addresses or to errors.
type fakeDNS struct {
	addrs map[string][]string
	calls atomic.Int32
	block bool // wait for the context (a hanging server)
}

func (f *fakeDNS) Lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	f.calls.Add(1)
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	v, ok := f.addrs[name]
	if !ok {
		return nil, ErrNoAddress
	}
	var out []netip.Addr
	for _, s := range v {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func testConfig(roles map[string][]string) *config.Config {
	c := config.Default()
	c.Peers.Roles = roles
	c.DNS.Records = []config.Record{{Name: "me.example.test", Address: "local-ipv4+ipv6"}}
	return c
}

func testFacts() *facts.Facts {
	return &facts.Facts{InstanceID: "i-0123", LocalIPv4: netip.MustParseAddr("10.0.0.9"),
		IPv6: netip.MustParseAddr("2001:db8::9"), LocalHostname: "ip-10-0-0-9.ec2.internal"}
}

func names(hs []Host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name+"="+joinAddrs(h.Addrs)+"/"+string(h.Source))
	}
	return out
}

func TestResolve(t *testing.T) {
	dns := &fakeDNS{addrs: map[string][]string{
		"db-1.example.test":  {"10.0.1.1"},
		"db-2.example.test":  {"2001:db8::2", "10.0.1.2", "10.0.1.2"},
		"web-1.example.test": {"10.0.2.1", "169.254.169.254"},
	}}
	cfg := testConfig(map[string][]string{
		"db":  {"db-1.example.test", "DB-2.example.test."},
		"web": {"web-1.example.test", "me.example.test"},
	})
	set, err := Resolve(context.Background(), Input{Config: cfg, Facts: testFacts(), Clock: clock.NewFake(t0), Resolver: dns})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"db":  {"db-1.example.test=10.0.1.1/dns", "db-2.example.test=10.0.1.2, 2001:db8::2/dns"},
		"web": {"web-1.example.test=10.0.2.1/dns", "me.example.test=10.0.0.9, 2001:db8::9/self"},
	}
	got := map[string][]string{}
	for r, hs := range set.Roles {
		got[r] = names(hs)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("roles (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"ip-10-0-0-9.ec2.internal=10.0.0.9/self", "me.example.test=10.0.0.9, 2001:db8::9/self"}, names(set.Self)); d != "" {
		t.Errorf("self (-want +got):\n%s", d)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "169.254.169.254 rejected") {
		t.Errorf("warnings = %q", set.Warnings)
	}
	if set.Refused() != nil || len(set.Stale)+len(set.Missing) != 0 {
		t.Errorf("unexpected refusal/stale/missing: %+v", set)
	}
	if n := dns.calls.Load(); n != 3 {
		t.Errorf("%d lookups, want 3 (own names are not looked up)", n)
	}
}

func TestStaleThenDropped(t *testing.T) {
	dir := t.TempDir()
	store, err := state.Open(dir, "i-0123", false)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	dns := &fakeDNS{addrs: map[string][]string{"a.example.test": {"10.0.0.1"}, "b.example.test": {"10.0.0.2"}}}
	cfg := testConfig(map[string][]string{"app": {"a.example.test", "b.example.test"}})
	cfg.Peers.StaleAfter.Duration = 6 * time.Hour
	in := Input{Config: cfg, Facts: testFacts(), State: store, Clock: clk, Resolver: dns}
	resolveAndRemember := func() *Set {
		t.Helper()
		set, err := Resolve(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := set.Remember(store); err != nil {
			t.Fatal(err)
		}
		return set
	}
	resolveAndRemember()

	delete(dns.addrs, "b.example.test") // b's record disappears
	clk.Advance(time.Hour)
	set := resolveAndRemember()
	if d := cmp.Diff([]string{"b.example.test=10.0.0.2/stale"}, names(set.Stale)); d != "" {
		t.Errorf("stale (-want +got):\n%s", d)
	}
	if len(set.Roles["app"]) != 2 || set.Refused() != nil {
		t.Errorf("stale peer not kept: %+v", set.Roles)
	}
	if d := set.Degraded(); len(d) != 1 || !strings.Contains(d[0], "peer b.example.test (role app) is stale: kept at its last known 10.0.0.2, not resolving for under a minute") {
		t.Errorf("degraded = %q", d)
	}

	clk.Advance(4 * time.Hour) // 4h after it started failing
	set = resolveAndRemember()
	if len(set.Stale) != 1 || !strings.Contains(set.Degraded()[0], "not resolving for 4h0m (since 2026-11-27T04:00:00Z)") {
		t.Errorf("age must count from the first failure: %q", set.Degraded())
	}

	clk.Advance(3 * time.Hour) // 7h > stale_after 6h
	set = resolveAndRemember()
	if len(set.Stale) != 0 || len(set.Missing) != 1 || !strings.Contains(set.Missing[0].Problem, "dropped") {
		t.Errorf("want b dropped: stale=%v missing=%+v", names(set.Stale), set.Missing)
	}
	// 2 -> 1 with min_keep 0.5 is allowed.
	if set.Refused() != nil {
		t.Errorf("refused: %v", set.Refused())
	}
}

func TestGuard(t *testing.T) {
	tests := []struct {
		name       string
		prev       int
		resolvable int
		allowEmpty bool
		wantRefuse string
	}{
		{name: "empty role refused", prev: 0, resolvable: 0, wantRefuse: "role app would be empty"},
		{name: "empty role allowed", prev: 3, resolvable: 0, allowEmpty: true},
		{name: "shrink past min_keep", prev: 4, resolvable: 1, wantRefuse: "would shrink from 4 to 1"},
		{name: "shrink within min_keep", prev: 4, resolvable: 2},
		{name: "growth", prev: 1, resolvable: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, _ := state.Open(t.TempDir(), "i-0123", false)
			if err := store.Save(StateName, memory{Hosts: map[string]known{}, Roles: map[string]int{"app": tc.prev}}, t0); err != nil {
				t.Fatal(err)
			}
			dns := &fakeDNS{addrs: map[string][]string{}}
			var members []string
			for i := 0; i < 4; i++ {
				n := string(rune('a'+i)) + ".example.test"
				members = append(members, n)
				if i < tc.resolvable {
					dns.addrs[n] = []string{"10.0.0." + string(rune('1'+i))}
				}
			}
			cfg := testConfig(map[string][]string{"app": members})
			cfg.Peers.AllowEmpty = tc.allowEmpty
			set, err := Resolve(context.Background(), Input{Config: cfg, State: store, Clock: clock.NewFake(t0), Resolver: dns})
			if err != nil {
				t.Fatal(err)
			}
			err = set.Refused()
			if tc.wantRefuse == "" && err != nil || tc.wantRefuse != "" && (err == nil || !strings.Contains(err.Error(), tc.wantRefuse)) {
				t.Errorf("Refused() = %v, want %q", err, tc.wantRefuse)
			}
			if err != nil && !strings.Contains(err.Error(), "d.example.test") {
				t.Errorf("refusal does not name the missing peers: %v", err)
			}
		})
	}
}

func TestRememberWritesOnlyOnChange(t *testing.T) {
	dir := t.TempDir()
	store, _ := state.Open(dir, "i-0123", false)
	clk := clock.NewFake(t0)
	dns := &fakeDNS{addrs: map[string][]string{"a.example.test": {"10.0.0.1"}}}
	in := Input{Config: testConfig(map[string][]string{"app": {"a.example.test"}}), State: store, Clock: clk, Resolver: dns}
	for i := 0; i < 3; i++ {
		set, err := Resolve(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := set.Remember(store); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		if i == 0 {
			st, _ := os.Stat(store.Path(StateName))
			t.Cleanup(func() {
				st2, _ := os.Stat(store.Path(StateName))
				if !st2.ModTime().Equal(st.ModTime()) || !os.SameFile(st, st2) {
					t.Errorf("state rewritten on no-change runs")
				}
			})
		}
	}
}

func TestFallbackFromHostsFile(t *testing.T) {
	store, _ := state.Open(t.TempDir(), "i-0123", false)
	dns := &fakeDNS{addrs: map[string][]string{}}
	written := t0.Add(-time.Hour)
	in := Input{
		Config: testConfig(map[string][]string{"app": {"a.example.test"}}), State: store, Clock: clock.NewFake(t0), Resolver: dns,
		Fallback: func() (map[string][]netip.Addr, time.Time) {
			return map[string][]netip.Addr{"a.example.test": {netip.MustParseAddr("10.0.0.7")}}, written
		},
	}
	set, err := Resolve(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"a.example.test=10.0.0.7/stale"}, names(set.Stale)); d != "" {
		t.Errorf("stale (-want +got):\n%s", d)
	}
	if !set.Stale[0].FailingSince.Equal(written) {
		t.Errorf("age from %v, want the file's time %v", set.Stale[0].FailingSince, written)
	}
}

func TestLookupDeadlineAndLazyOnce(t *testing.T) {
	dns := &fakeDNS{block: true}
	cfg := testConfig(map[string][]string{"app": {"a.example.test", "b.example.test"}})
	cfg.Peers.Timeout.Duration = 50 * time.Millisecond
	cfg.Peers.AllowEmpty = true
	get := Lazy(Input{Config: cfg, Clock: clock.NewFake(t0), Resolver: dns})
	start := time.Now()
	set, err := get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("lookups not bounded by their deadline: %v", el)
	}
	if len(set.Missing) != 2 || !strings.Contains(set.Missing[0].Problem, "deadline") {
		t.Errorf("missing = %+v", set.Missing)
	}
	if hs, ok := set.Roles["app"]; !ok || len(hs) != 0 {
		t.Errorf("an allowed empty role must be present and empty: %v, %v", hs, ok)
	}
	again, _ := get(context.Background())
	if again != set || dns.calls.Load() != 2 {
		t.Errorf("second call resolved again (%d lookups)", dns.calls.Load())
	}
}

// An instance that is a member of its own role (web-1 in role web) maps its
// name to its own address and never remembers it: the hosts block holding
// that name must not make the second run write the state.
func TestOwnNameInARoleIsNeverRemembered(t *testing.T) {
	store, _ := state.Open(t.TempDir(), "i-0123", false)
	dns := &fakeDNS{addrs: map[string][]string{"b.example.test": {"10.0.0.2"}}}
	block := map[string][]netip.Addr{
		"me.example.test": {netip.MustParseAddr("10.0.0.9")},
		"b.example.test":  {netip.MustParseAddr("10.0.0.2")},
	}
	in := Input{
		Config: testConfig(map[string][]string{"web": {"me.example.test", "b.example.test"}}),
		Facts:  testFacts(), State: store, Clock: clock.NewFake(t0), Resolver: dns,
		Fallback: func() (map[string][]netip.Addr, time.Time) { return block, t0.Add(-time.Minute) },
	}
	var saved []string
	for i := 0; i < 2; i++ {
		set, err := Resolve(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"me.example.test=10.0.0.9, 2001:db8::9/self", "b.example.test=10.0.0.2/dns"}, names(set.Roles["web"])); d != "" {
			t.Errorf("run %d: role web (-want +got):\n%s", i, d)
		}
		if err := set.Remember(store); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(store.Path(StateName))
		saved = append(saved, string(b))
	}
	if saved[0] != saved[1] {
		t.Errorf("second run rewrote the peers state:\n%s\n---\n%s", saved[0], saved[1])
	}
	if strings.Contains(saved[1], "me.example.test") {
		t.Errorf("own name remembered as a peer:\n%s", saved[1])
	}
}

// TestInterruptedLookupsAreNoPeersFailure: lookups cut short by the run's
// interruption (SIGTERM) must not mark anyone failing or stale: the
// resolution fails as interrupted and the state is untouched.
func TestInterruptedLookupsAreNoPeersFailure(t *testing.T) {
	dir := t.TempDir()
	store, err := state.Open(dir, "i-0123", false)
	if err != nil {
		t.Fatal(err)
	}
	dns := &fakeDNS{addrs: map[string][]string{"a.example.test": {"10.0.0.1"}}}
	cfg := testConfig(map[string][]string{"app": {"a.example.test"}})
	in := Input{Config: cfg, Facts: testFacts(), State: store, Clock: clock.NewFake(t0), Resolver: dns}
	set, err := Resolve(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Remember(store); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(store.Path(StateName))
	if err != nil {
		t.Fatal(err)
	}

	dns.block = true
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for dns.calls.Load() < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	set, err = Resolve(ctx, in)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted resolution: set %+v, err %v; want an error wrapping context.Canceled", set, err)
	}
	after, _ := os.ReadFile(store.Path(StateName))
	if string(before) != string(after) {
		t.Errorf("state changed by an interrupted resolution:\n%s\n->\n%s", before, after)
	}
}

// TestFailingSinceInTheFutureCountsFromNow: state says a peer has been
// failing "since 2099" (a clock that jumped back, an image baked on a
// skewed host). Trusted, it would never be old enough to drop; it counts
// from now instead, is said once, and is saved repaired.
func TestFailingSinceInTheFutureCountsFromNow(t *testing.T) {
	dir := t.TempDir()
	store, err := state.Open(dir, "i-0123", false)
	if err != nil {
		t.Fatal(err)
	}
	y2099 := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	mem := memory{Hosts: map[string]known{
		"b.example.test": {Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}, FailingSince: &y2099},
	}, Roles: map[string]int{"app": 2}}
	if err := store.Save(StateName, mem, y2099); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	dns := &fakeDNS{addrs: map[string][]string{"a.example.test": {"10.0.0.1"}}}
	cfg := testConfig(map[string][]string{"app": {"a.example.test", "b.example.test"}})
	cfg.Peers.StaleAfter.Duration = 6 * time.Hour
	in := Input{Config: cfg, Facts: testFacts(), State: store, Clock: clk, Resolver: dns}

	set, err := Resolve(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Stale) != 1 || !set.Stale[0].FailingSince.Equal(t0) {
		t.Fatalf("stale = %+v; want b failing since now (%s)", set.Stale, t0)
	}
	var said []string
	for _, w := range set.Warnings {
		if strings.Contains(w, "in the future") {
			said = append(said, w)
		}
	}
	if len(said) != 1 || !strings.Contains(said[0], "latest 2099-01-01T00:00:00Z") {
		t.Errorf("warnings = %q; want one line naming 2099", set.Warnings)
	}
	if err := set.Remember(store); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(store.Path(StateName))
	if strings.Contains(string(b), "2099") {
		t.Errorf("state still says 2099 after the run:\n%s", b)
	}

	clk.Advance(7 * time.Hour) // past stale_after, counted from now
	set, err = Resolve(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Stale) != 0 || len(set.Missing) != 1 {
		t.Errorf("after stale_after: stale=%v missing=%+v; want b dropped", names(set.Stale), set.Missing)
	}
}
