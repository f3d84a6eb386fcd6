package publish

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/rfc2136"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

const record = "queue.roles.example.test"

const policy = `grant role-key name queue.roles.example.test. A AAAA;
grant role-key name _ec2boot-members.queue.roles.example.test. TXT;`

const userData = `[dns.accounts.corp]
provider = "rfc2136"
server = "%s"
zone = "example.test"
key_file = "/etc/ec2boot/role.key"

[peers.discover.queue]
source = "dns"
record = "queue.roles.example.test"
publish = { account = "corp", address = "local-ipv4" }
`

// instance is one member: its own root (state, key file) and facts.
type instance struct {
	t     *testing.T
	root  hostfs.Root
	cfg   *config.Config
	facts facts.Facts
	clock *clock.Fake
}

func newInstance(t *testing.T, srv *bind.Server, id, addr string, clk *clock.Fake) *instance {
	t.Helper()
	root := hostfs.Root(t.TempDir())
	key := root.Path("/etc/ec2boot/role.key")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte(fmt.Sprintf("key \"role-key\" {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", srv.Secrets["role-key"])), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, ps := config.Load(config.Source{Name: "user-data", Data: []byte(fmt.Sprintf(userData, srv.Addr))})
	if cfg == nil {
		t.Fatalf("config: %v", ps)
	}
	return &instance{t: t, root: root, cfg: cfg, clock: clk,
		facts: facts.Facts{InstanceID: id, LocalIPv4: netip.MustParseAddr(addr), Source: "imds"}}
}

func (in *instance) env() *step.Env {
	store, err := state.Open(in.root.Path(state.Dir), in.facts.InstanceID, false)
	if err != nil {
		in.t.Fatal(err)
	}
	f := in.facts
	return &step.Env{Root: in.root, Config: in.cfg, Facts: &f, State: store, Log: logging.Discard(), Clock: in.clock}
}

// run plans and applies s; it returns whether the plan had work and what
// Apply changed.
func (in *instance) run(s *Step) (bool, []string) {
	in.t.Helper()
	p, err := s.Plan(context.Background(), in.env())
	if err != nil {
		in.t.Fatal(err)
	}
	pending := p.(step.Pending).Pending()
	res, err := p.Apply(context.Background())
	if err != nil {
		in.t.Fatalf("%s %s: %v", s.Name(), in.facts.InstanceID, err)
	}
	return pending, res.Changed
}

func lookup(t *testing.T, srv *bind.Server) []string {
	t.Helper()
	var out []string
	for _, q := range []struct {
		name string
		t    uint16
	}{{record + ".", dns.TypeA}, {member.TXTName(record), dns.TypeTXT}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.t)
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).Exchange(m, srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range r.Answer {
			switch v := rr.(type) {
			case *dns.A:
				out = append(out, "A "+v.A.String())
			case *dns.TXT:
				mm, _ := member.Parse(strings.Join(v.Txt, ""))
				out = append(out, "member "+mm.InstanceID+" "+mm.Addr.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestStepPublishesRefreshesPrunesLeaves: three instances publish through
// the real step and BIND; a run with nothing due plans nothing (and so
// sends nothing); past 6 h a refresh is due; a member that vanished 25 h
// ago is pruned; a member that stops leaves.
func TestStepPublishesRefreshesPrunesLeaves(t *testing.T) {
	srv := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"role-key"}, UpdatePolicy: policy})
	// TSIG signs with the step's clock: it must stay near the server's.
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))

	// A member that died a day ago without leaving.
	ghost := member.Member{Role: "queue", InstanceID: "i-ghost", Addr: netip.MustParseAddr("10.0.0.9"), Refreshed: clk.Now().Add(-25 * time.Hour)}
	c := &rfc2136.Client{Server: srv.Addr, Zone: "example.test", TTL: 300, Timeout: 3 * time.Second, Clock: clk,
		Key: rfc2136.Key{Name: "role-key.", Algorithm: dns.HmacSHA256, Secret: srv.Secrets["role-key"]}}
	reg := rfc2136.Members{C: c}
	r, err := reg.Read(context.Background(), record)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Publish(context.Background(), r, ghost); err != nil {
		t.Fatal(err)
	}

	a := newInstance(t, srv, "i-a", "10.0.0.1", clk)
	b := newInstance(t, srv, "i-b", "10.0.0.2", clk)
	cc := newInstance(t, srv, "i-c", "10.0.0.3", clk)
	_, changed := a.run(New())
	if d := cmp.Diff([]string{"published 10.0.0.1 under queue.roles.example.test (not published yet)",
		"pruned i-ghost (10.0.0.9, not refreshed since " + ghost.Refreshed.UTC().Format(time.RFC3339) + ") from queue.roles.example.test"}, changed); d != "" {
		t.Errorf("first run of i-a (-want +got):\n%s", d)
	}
	b.run(New())
	cc.run(New())
	want := []string{"A 10.0.0.1", "A 10.0.0.2", "A 10.0.0.3", "member i-a 10.0.0.1", "member i-b 10.0.0.2", "member i-c 10.0.0.3"}
	if d := cmp.Diff(want, lookup(t, srv)); d != "" {
		t.Fatalf("three published (-want +got):\n%s", d)
	}

	// Nothing due: the plan has no work, so Apply sends nothing.
	serial, _ := srv.Serial(context.Background())
	clk.Advance(2 * time.Minute)
	for _, in := range []*instance{a, b, cc} {
		if pending, changed := in.run(New()); pending || len(changed) > 0 {
			t.Errorf("%s: a run with nothing due planned %v, changed %v", in.facts.InstanceID, pending, changed)
		}
	}
	if s, _ := srv.Serial(context.Background()); s != serial {
		t.Errorf("serial %d -> %d after runs with nothing due", serial, s)
	}

	// Past the refresh period a refresh is due (planned only: TSIG needs
	// the real time).
	in := a.env()
	in.Clock = clock.NewFake(clk.Now().Add(member.RefreshEvery))
	p, err := New().Plan(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var desc strings.Builder
	p.Describe(&desc)
	if !p.(step.Pending).Pending() || !strings.Contains(desc.String(), "refresh due") {
		t.Errorf("after 6 h: pending %v, plan %q", p.(step.Pending).Pending(), desc.String())
	}

	// A new address is due at once.
	b.facts.LocalIPv4 = netip.MustParseAddr("10.0.0.22")
	if _, changed := b.run(New()); len(changed) != 1 || !strings.Contains(changed[0], "address changed from 10.0.0.2") {
		t.Errorf("new address: %v", changed)
	}

	// i-c leaves cleanly; the others are untouched.
	if _, changed := cc.run(NewLeave()); !slices.Equal(changed, []string{"removed i-c from queue.roles.example.test"}) {
		t.Errorf("leave: %v", changed)
	}
	want = []string{"A 10.0.0.1", "A 10.0.0.22", "member i-a 10.0.0.1", "member i-b 10.0.0.22"}
	if d := cmp.Diff(want, lookup(t, srv)); d != "" {
		t.Fatalf("after i-c left (-want +got):\n%s", d)
	}
	// Leaving again has nothing to remove; the next run publishes again.
	if _, changed := cc.run(NewLeave()); len(changed) > 0 {
		t.Errorf("second leave: %v", changed)
	}
	if _, changed := cc.run(New()); len(changed) != 1 || !strings.Contains(changed[0], "not published yet") {
		t.Errorf("run after leaving: %v", changed)
	}
}

// TestStepCachedFactsPublishNothing: an address from cached facts may be
// a stop/start old; it is never published.
func TestStepCachedFactsPublishNothing(t *testing.T) {
	cfg, ps := config.Load(config.Source{Name: "user-data", Data: []byte(fmt.Sprintf(userData, "127.0.0.1:9"))})
	if cfg == nil {
		t.Fatal(ps)
	}
	env := &step.Env{Root: hostfs.Root(t.TempDir()), Config: cfg, Log: logging.Discard(), Clock: clock.NewFake(time.Now()),
		Facts: &facts.Facts{InstanceID: "i-a", LocalIPv4: netip.MustParseAddr("10.0.0.1"), Source: facts.SourceCache}}
	p, err := New().Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Apply(context.Background())
	if err != nil || p.(step.Pending).Pending() || len(res.Degraded) != 1 || !strings.Contains(res.Degraded[0], "cached address is never published") {
		t.Errorf("cached facts: pending %v, %+v, %v", p.(step.Pending).Pending(), res, err)
	}
}

// TestStepLeaveUnreachable: a server that does not answer makes leave
// fail within its deadline, naming the role, and keeps the state (the
// next run still knows it published).
func TestStepLeaveUnreachable(t *testing.T) {
	srv := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"role-key"}, UpdatePolicy: policy})
	in := newInstance(t, srv, "i-a", "10.0.0.1", clock.NewFake(time.Now().UTC()))
	in.run(New())
	// The server goes away: a port where nothing listens.
	gone := *in.cfg
	gone.DNS.Accounts = map[string]config.Account{"corp": func() config.Account {
		a := in.cfg.DNS.Accounts["corp"]
		a.Server = "127.0.0.1:9"
		a.Timeout = config.Duration{Duration: 500 * time.Millisecond}
		return a
	}()}
	in.cfg = &gone
	p, err := NewLeave().Plan(context.Background(), in.env())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = p.Apply(ctx)
	if err == nil || !strings.Contains(err.Error(), "role queue (queue.roles.example.test)") {
		t.Fatalf("leave with the server gone: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("leave took %s", time.Since(start))
	}
	var st map[string]Entry
	if found, _, err := in.env().State.Load(stateName, &st); err != nil || !found || st["queue"].Addr.String() != "10.0.0.1" {
		t.Errorf("state after a failed leave: %v %v %v", st, found, err)
	}
}

// TestStepWithdrawsWhatIsNoLongerPublished: a role whose publish is
// removed from the configuration is left at the next run; one whose
// account is gone is forgotten (the others prune it).
func TestStepWithdrawsWhatIsNoLongerPublished(t *testing.T) {
	srv := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"role-key"}, UpdatePolicy: policy})
	clk := clock.NewFake(time.Now().UTC())
	a := newInstance(t, srv, "i-a", "10.0.0.1", clk)
	b := newInstance(t, srv, "i-b", "10.0.0.2", clk)
	a.run(New())
	b.run(New())

	noPublish := func(in *instance, dropAccount bool) {
		cfg := *in.cfg
		cfg.Peers.Discover = map[string]config.Discover{"queue": {Source: "dns", Record: record}}
		if dropAccount {
			cfg.DNS.Accounts = map[string]config.Account{}
		}
		in.cfg = &cfg
	}
	noPublish(a, false)
	if _, changed := a.run(New()); !slices.Equal(changed, []string{"removed i-a from " + record}) {
		t.Errorf("publish removed: %v", changed)
	}
	if pending, changed := a.run(New()); pending || len(changed) > 0 {
		t.Errorf("the run after: pending %v, %v", pending, changed)
	}
	noPublish(b, true)
	if pending, changed := b.run(New()); !pending || len(changed) > 0 {
		t.Errorf("account gone: pending %v, %v", pending, changed)
	}
	if pending, _ := b.run(New()); pending {
		t.Error("the entry of a gone account was not forgotten")
	}
	if d := cmp.Diff([]string{"A 10.0.0.2", "member i-b 10.0.0.2"}, lookup(t, srv)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}
