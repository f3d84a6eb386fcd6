package ddns

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

func TestClaimantWins(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	old := Claimant{InstanceID: "i-0bbb", LaunchTime: t0}
	newer := Claimant{InstanceID: "i-0aaa", LaunchTime: t0.Add(time.Minute)}
	twin := Claimant{InstanceID: "i-0ccc", LaunchTime: t0}
	for _, tc := range []struct {
		a, b Claimant
		want bool
	}{{newer, old, true}, {old, newer, false}, {twin, old, true}, {old, twin, false}} {
		if got := tc.a.Wins(tc.b); got != tc.want {
			t.Errorf("%v.Wins(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// The dyndns2 ownership rule, one DNS answer at a time.
func TestDecideContest(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ours := netip.MustParseAddr("10.200.0.1")
	theirs := netip.MustParseAddr("10.200.0.2")
	third := netip.MustParseAddr("10.200.0.3")
	held := &RecordState{Addr: ours, Touched: now.Add(-time.Hour), Via: "update", Code: "good", Confirmed: true}
	repaired := &Contest{Other: theirs, Seen: now.Add(-10 * time.Minute), Repaired: now.Add(-10 * time.Minute), Config: "fp"}
	yielded := &Contest{Other: theirs, Seen: now.Add(-20 * time.Minute), Repaired: now.Add(-20 * time.Minute), Yielded: now.Add(-10 * time.Minute), Config: "fp"}
	oldWin := &Contest{Other: theirs, Seen: now.Add(-25 * time.Hour), Repaired: now.Add(-25 * time.Hour), Config: "fp"}
	one := func(st *RecordState, c *Contest, dns ...netip.Addr) []rr {
		return []rr{{typ: "A", want: ours, state: st, contest: c, fp: "fp", dns: answer{addrs: dns, where: "ns"}}}
	}
	tests := []struct {
		name     string
		in       decideIn
		act      action
		reason   string
		contests []contestChange
	}{
		{"first change: repair once", decideIn{rrs: one(held, nil, theirs)}, actSend, "repairing once",
			[]contestChange{{"A", &Contest{Other: theirs, Seen: now, Repaired: now, Config: "fp"}}}},
		{"changed again after the repair: yield", decideIn{rrs: one(held, repaired, theirs)}, actConflict, "conflict: another claimant holds this name (DNS says 10.200.0.2)",
			[]contestChange{{"A", &Contest{Other: theirs, Seen: repaired.Seen, Repaired: repaired.Repaired, Yielded: now, Config: "fp"}}}},
		{"yielded, DNS unchanged: still nothing", decideIn{rrs: one(held, yielded, theirs)}, actConflict, "yields since 2026-11-27T09:50:00Z", nil},
		{"yielded, DNS moved on to a third address: new episode", decideIn{rrs: one(held, yielded, third)}, actSend, "repairing once",
			[]contestChange{{"A", &Contest{Other: third, Seen: now, Repaired: now, Config: "fp"}}}},
		{"yielded, DNS shows ours again: forgotten", decideIn{rrs: one(held, yielded, ours)}, actNone, "", []contestChange{{typ: "A"}}},
		{"won the repair: remembered a day", decideIn{rrs: one(held, repaired, ours)}, actNone, "", nil},
		{"won the repair a day ago: forgotten", decideIn{rrs: one(held, oldWin, ours)}, actNone, "", []contestChange{{typ: "A"}}},
		{"never held: a first claim is no repair", decideIn{rrs: one(nil, nil, theirs)}, actSend, "mismatch: DNS says 10.200.0.2, want 10.200.0.1", nil},
		{"DNS empty after yielding: claim, forget", decideIn{rrs: one(held, yielded)}, actSend, "DNS says nothing", []contestChange{{typ: "A"}}},
		{"forced while yielding", decideIn{force: true, rrs: one(held, yielded, theirs)}, actSend, "forced", []contestChange{{typ: "A"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.now = now
			d := decide(tt.in)
			if d.act != tt.act {
				t.Fatalf("act = %d, want %d (%q)", d.act, tt.act, d.reasons)
			}
			if !strings.Contains(strings.Join(d.reasons, "; "), tt.reason) {
				t.Errorf("reasons %q lack %q", d.reasons, tt.reason)
			}
			if diff := cmp.Diff(tt.contests, d.contests, cmp.AllowUnexported(contestChange{}), cmpopts.EquateEmpty(), addrCmp); diff != "" {
				t.Errorf("contests (-want +got):\n%s", diff)
			}
		})
	}
}

// instance is a second harness on the same provider and DNS server: another
// instance of the same group, with its own root, state and address.
func (h *harness) instance(id string, local netip.Addr) *harness {
	h.t.Helper()
	o := &harness{t: h.t, root: hostfs.Root(h.t.TempDir()), dyn: h.dyn, dns: h.dns, clock: h.clock, instanceID: id,
		records: h.records, account: h.account, dnsKeys: h.dnsKeys}
	f := *h.facts
	o.facts = &f
	o.facts.InstanceID, o.facts.LocalIPv4 = id, local
	o.logw = zerolog.SyncWriter(&o.log)
	o.writeSecret("main.secret", testPassword)
	return o
}

const apiRecord = `
[[dns.records]]
name = "api.example.test"
address = "local-ipv4"
account = "main"
`

// Blue/green: the old instance holds api.example.test; the new one, booted
// from the same user-data, claims it too. Five timer runs each, interleaved:
// the new one holds the name, the old one yields and says so (exit 4), and
// each sends at most twice (docs/dns.md). Once the old one is gone, the
// new one holds the name without another request.
func TestBlueGreenClaimants(t *testing.T) {
	blue := newHarness(t)
	blue.records = apiRecord
	blueIP, greenIP := netip.MustParseAddr("10.200.0.1"), netip.MustParseAddr("10.200.0.2")
	blue.facts.LocalIPv4 = blueIP
	if r := blue.run(false); r.err != nil || r.requests != 1 {
		t.Fatalf("blue's first run: err=%v requests=%d", r.err, r.requests)
	}
	green := blue.instance("i-0bbbbbbbbbbbbbbb2", greenIP)

	sent := map[string]int{}
	var last map[string]runResult
	for i := 0; i < 5; i++ {
		last = map[string]runResult{}
		for _, in := range []struct {
			name string
			h    *harness
		}{{"green", green}, {"blue", blue}} {
			blue.clock.Advance(5 * time.Minute)
			r := in.h.run(false)
			if r.err != nil {
				t.Fatalf("%s run %d: %v", in.name, i+1, r.err)
			}
			sent[in.name] += r.requests
			last[in.name] = r
		}
	}
	if got := blue.lookup("api.example.test"); !cmp.Equal(got, []netip.Addr{greenIP}, addrCmp) {
		t.Errorf("DNS answers %v, want green's %s", got, greenIP)
	}
	if sent["green"] > 2 || sent["blue"] > 1 {
		t.Errorf("requests after green came up: %v; the bound is 2 per claimant (blue: its one repair)", sent)
	}
	if d := last["blue"].res.Degraded; len(d) != 1 || !strings.Contains(d[0], "conflict: another claimant holds this name (DNS says 10.200.0.2)") {
		t.Errorf("blue's last run degraded %q; want the conflict", d)
	}
	if d := last["green"].res.Degraded; len(d) != 0 {
		t.Errorf("green degraded: %q", d)
	}
	// status shows the conflict and the other claimant's address.
	st := blue.loadState()
	c := st.Contests[recordKey("main", "api.example.test", "A")]
	if c == nil || c.Other != greenIP || c.Yielded.IsZero() {
		t.Fatalf("blue's contest: %+v", c)
	}
	store, err := state.Open(blue.root.Path(state.Dir), blue.instanceID, true)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Status(store, nil, blue.clock.Now())
	if err != nil || len(rs) != 1 || rs[0].Conflict == nil || rs[0].Conflict.State != "yielded" || rs[0].Conflict.Other != greenIP {
		t.Fatalf("blue's status: %+v, %v", rs, err)
	}
	var table strings.Builder
	WriteStatus(&table, rs)
	if !strings.Contains(table.String(), "conflict: yielded to another claimant (DNS shows 10.200.0.2) since ") {
		t.Errorf("status table:\n%s", table.String())
	}
	t.Logf("provider requests once green was up: %v", sent)
	plan := blue.plan()
	if !strings.Contains(plan, "ddns: yielding api.example.test (account main): A: conflict") {
		t.Errorf("blue's plan does not say it yields:\n%s", plan)
	}

	// Blue is terminated; green keeps the name and sends nothing more.
	for i := 0; i < 3; i++ {
		blue.clock.Advance(5 * time.Minute)
		if r := green.run(false); r.err != nil || r.requests != 0 || len(r.res.Degraded) > 0 {
			t.Fatalf("green alone, run %d: err=%v requests=%d degraded=%q", i+1, r.err, r.requests, r.res.Degraded)
		}
	}
}
