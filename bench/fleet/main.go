// Command fleet simulates a fleet of N instances on one timer period after
// another, with the real ddns and peers code in-process against the
// project's dyndns2 test provider and authoritative DNS server on loopback.
// Each instance registers its own internal name and watches K peers. One
// member is then redeployed (a new instance, a new address, no state): the
// simulation counts provider requests and DNS queries per timer period and
// the periods until every instance that watches it sees its new address.
//
// It prints a Markdown table, and with -json writes the figures for the
// results document.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

const (
	zone     = "fleet.test"
	user     = "fleet"
	password = "fleet-secret"
	watch    = 3 // peers each instance watches
	timer    = 5 * time.Minute
)

// Period is one timer period of the whole fleet.
type Period struct {
	What             string
	ProviderRequests int
	DNSQueries       int
	Converged        bool
	Took             time.Duration // simulated fleet, in-process, one after another
}

// Result is one fleet size.
type Result struct {
	N               int
	Watch           int
	Periods         []Period
	PeriodsToSettle int // timer periods after the redeployed member's boot run
}

type instance struct {
	idx  int
	id   string
	ip   netip.Addr
	dir  string
	cfg  *config.Config
	st   *state.Store
	fact *facts.Facts
}

type sim struct {
	dns  *authdns.Server
	dyn  *dyndns.Server
	clk  *clock.Fake
	dir  string
	n    int
	gen  int
	inst []*instance
}

func name(i int) string { return fmt.Sprintf("node-%d.%s", i, zone) }

// addr is member i's address in its deploy generation (1 at the fleet's
// first boot, 2 once redeployed): a redeploy always moves the address.
func addr(i, deploy int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(deploy), byte(i / 250), byte(i%250 + 1)})
}

func (s *sim) newInstance(i, deploy int) (*instance, error) {
	s.gen++
	in := &instance{idx: i, id: fmt.Sprintf("i-%017x", s.gen), ip: addr(i, deploy)}
	in.dir = filepath.Join(s.dir, in.id)
	var roles []string
	for k := 1; k <= watch && k < s.n; k++ {
		roles = append(roles, fmt.Sprintf("%q", name((i+k)%s.n)))
	}
	toml := fmt.Sprintf(`[dns]
check_server = %q
[dns.accounts.fleet]
server = %q
username = %q
password = %q
[[dns.records]]
name = %q
address = "local-ipv4"
account = "fleet"
[peers]
nameserver = %q
allow_empty = true
[peers.roles]
app = [%s]
`, s.dns.Addr(), s.dyn.URL(), user, password, name(i), s.dns.Addr(), strings.Join(roles, ", "))
	cfg, problems := config.Load(config.Source{Name: "fleet.toml", Data: []byte(toml)})
	if cfg == nil {
		return nil, fmt.Errorf("config: %v", problems)
	}
	in.cfg = cfg
	st, err := state.Open(filepath.Join(in.dir, "var/lib/ec2boot"), in.id, false)
	if err != nil {
		return nil, err
	}
	in.st = st
	in.fact = &facts.Facts{InstanceID: in.id, LocalIPv4: in.ip}
	return in, nil
}

// runOnce is one ec2boot run of one instance: the ddns step and the peer
// resolution the hosts and render steps share.
func (s *sim) runOnce(ctx context.Context, in *instance) (*peers.Set, error) {
	env := &step.Env{Root: hostfs.Root(in.dir), Config: in.cfg, Facts: in.fact, State: in.st,
		Log: zerolog.Nop(), Clock: s.clk, Version: "fleet-sim"}
	p, err := ddns.NewStep().Plan(ctx, env)
	if err != nil {
		return nil, err
	}
	if _, err := p.Apply(ctx); err != nil {
		return nil, err
	}
	set, err := peers.Resolve(ctx, peers.Input{Config: in.cfg, Facts: in.fact, State: in.st, Clock: s.clk})
	if err != nil {
		return nil, err
	}
	return set, set.Remember(in.st)
}

// period runs every instance once (the timer firing across the fleet) and
// reports whether all watchers of member m see want.
func (s *sim) period(ctx context.Context, what string, m int, want netip.Addr) (Period, error) {
	s.clk.Advance(timer)
	reqs, qs := s.dyn.Count(), s.dns.Queries()
	t := time.Now()
	converged := true
	for _, in := range s.inst {
		set, err := s.runOnce(ctx, in)
		if err != nil {
			return Period{}, fmt.Errorf("%s: %w", in.id, err)
		}
		if want.IsValid() && watches(in.idx, m, s.n) && !sees(set, name(m), want) {
			converged = false
		}
	}
	return Period{What: what, ProviderRequests: s.dyn.Count() - reqs, DNSQueries: s.dns.Queries() - qs,
		Converged: converged, Took: time.Since(t)}, nil
}

func watches(i, m, n int) bool {
	for k := 1; k <= watch && k < n; k++ {
		if (i+k)%n == m {
			return true
		}
	}
	return false
}

func sees(set *peers.Set, host string, want netip.Addr) bool {
	for _, h := range set.Roles["app"] {
		if h.Name == host {
			for _, a := range h.Addrs {
				if a == want {
					return true
				}
			}
		}
	}
	return false
}

func simulate(ctx context.Context, n int, dir string) (Result, error) {
	s := &sim{n: n, dir: dir, clk: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	s.dns = authdns.New(zone)
	if err := s.dns.Start("127.0.0.1:0"); err != nil {
		return Result{}, err
	}
	defer s.dns.Close()
	s.dyn = &dyndns.Server{Users: map[string]string{user: password}, Backend: s.dns}
	if err := s.dyn.Start("127.0.0.1:0"); err != nil {
		return Result{}, err
	}
	defer s.dyn.Close()
	for i := 0; i < n; i++ {
		in, err := s.newInstance(i, 1)
		if err != nil {
			return Result{}, err
		}
		s.inst = append(s.inst, in)
	}
	res := Result{N: n, Watch: min(watch, n-1)}
	add := func(p Period, err error) error {
		if err == nil {
			res.Periods = append(res.Periods, p)
		}
		return err
	}
	// The fleet's first boot, then a quiet period.
	if err := add(s.period(ctx, "first boot of the whole fleet", 0, netip.Addr{})); err != nil {
		return res, err
	}
	if err := add(s.period(ctx, "steady state (timer, nothing changed)", 0, netip.Addr{})); err != nil {
		return res, err
	}
	// Redeploy member m: a new instance with a new address boots.
	m := n / 2
	in, err := s.newInstance(m, 2)
	if err != nil {
		return res, err
	}
	s.inst[m] = in
	reqs, qs, t := s.dyn.Count(), s.dns.Queries(), time.Now()
	if _, err := s.runOnce(ctx, in); err != nil {
		return res, err
	}
	res.Periods = append(res.Periods, Period{What: "the redeployed member's boot run", ProviderRequests: s.dyn.Count() - reqs,
		DNSQueries: s.dns.Queries() - qs, Took: time.Since(t)})
	for k := 1; k <= 3; k++ {
		p, err := s.period(ctx, fmt.Sprintf("timer period %d after the redeploy", k), m, in.ip)
		if err := add(p, err); err != nil {
			return res, err
		}
		if p.Converged && res.PeriodsToSettle == 0 {
			res.PeriodsToSettle = k
		}
	}
	return res, nil
}

func main() {
	sizes := flag.String("n", "10,100,1000", "fleet sizes")
	out := flag.String("json", "", "write the results here")
	discover := flag.Bool("discover", false, "simulate peer discovery by EC2 tags instead (DescribeInstances against the AWS API test peer)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "ec2boot-fleet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var all []Result
	for _, f := range strings.Split(*sizes, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 2 {
			fmt.Fprintf(os.Stderr, "fleet: bad size %q\n", f)
			os.Exit(1)
		}
		if *discover {
			r, err := simulateDiscovery(ctx, n, filepath.Join(dir, fmt.Sprint(n)))
			if err != nil {
				fmt.Fprintf(os.Stderr, "fleet: discovery N=%d: %v\n", n, err)
				os.Exit(1)
			}
			fmt.Print(DiscoverTable([]DiscoverResult{r}))
			fmt.Printf("\nN = %d: every instance sees the group %d timer period(s) after the replacement, %d after the scale-out\n\n", n, r.SettleReplace, r.SettleScaleOut)
			continue
		}
		r, err := simulate(ctx, n, filepath.Join(dir, fmt.Sprint(n)))
		if err != nil {
			fmt.Fprintf(os.Stderr, "fleet: N=%d: %v\n", n, err)
			os.Exit(1)
		}
		all = append(all, r)
	}
	if *discover {
		return
	}
	fmt.Print(Table(all))
	if *out != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fleet:", err)
			os.Exit(1)
		}
	}
}

// Table renders the results.
func Table(rs []Result) string {
	var b strings.Builder
	b.WriteString("| N | period | provider requests | DNS queries | DNS queries per instance | all watchers see the new address | simulated in |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, p := range r.Periods {
			per := "–"
			conv := "–"
			if strings.HasPrefix(p.What, "timer") || strings.HasPrefix(p.What, "steady") || strings.HasPrefix(p.What, "first") {
				per = fmt.Sprintf("%.1f", float64(p.DNSQueries)/float64(r.N))
			}
			if strings.Contains(p.What, "after the redeploy") {
				conv = map[bool]string{true: "yes", false: "no"}[p.Converged]
			}
			fmt.Fprintf(&b, "| %d | %s | %d | %d | %s | %s | %.0f ms |\n", r.N, p.What, p.ProviderRequests, p.DNSQueries,
				per, conv, float64(p.Took.Microseconds())/1000)
		}
	}
	return b.String()
}
