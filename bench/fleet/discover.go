package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// The discovery simulation: N instances of one Auto Scaling group find
// their role (every running instance tagged Role=app in their group)
// through the real peers code and the SDK's EC2 client, against the AWS
// API test peer on loopback. A member is replaced, then the group scales
// out by half: the simulation counts DescribeInstances calls per timer
// period and the periods until every instance sees exactly the group.

// DiscoverPeriod is one timer period (or a set of boot runs) of the fleet.
type DiscoverPeriod struct {
	What      string
	Runs      int
	Calls     int // DescribeInstances requests
	Converged bool
	Took      time.Duration
}

// DiscoverResult is one fleet size.
type DiscoverResult struct {
	N       int
	Periods []DiscoverPeriod
	// Settle is, per change, the timer periods after its boot runs until
	// every instance saw the new group (0: not within 3).
	SettleReplace, SettleScaleOut int
}

var discoverCreds = awsapi.Credentials{AccessKeyID: "AKIAFLEETSIM00000001", SecretAccessKey: "fleet/sim/secret", Token: "fleet-sim-token"}

const discoverConfig = `[peers.discover.app]
source = "ec2"
tag = { Role = "app" }
same_asg = true
name = "{{ .Tags.Name }}.fleet.test"
`

type dmember struct {
	in   awsapi.Instance
	st   *state.Store
	fact *facts.Facts
}

type dsim struct {
	api  *awsapi.Server
	clk  *clock.Fake
	cfg  *config.Config
	dir  string
	gen  int
	live []*dmember
}

func (s *dsim) boot() (*dmember, error) {
	s.gen++
	id := fmt.Sprintf("i-%017x", s.gen)
	in := awsapi.Instance{ID: id, PrivateIP: netip.AddrFrom4([4]byte{10, 3, byte(s.gen / 250), byte(s.gen%250 + 1)}),
		Tags: []awsapi.Tag{{Key: "Role", Value: "app"}, {Key: "aws:autoscaling:groupName", Value: "app-asg"}, {Key: "Name", Value: fmt.Sprintf("app-%d", s.gen)}}}
	st, err := state.Open(filepath.Join(s.dir, id), id, false)
	if err != nil {
		return nil, err
	}
	f := &facts.Facts{InstanceID: id, Region: "us-east-1", LocalIPv4: in.PrivateIP,
		Tags: map[string]string{"aws:autoscaling:groupName": "app-asg", "Role": "app"}, TagsAvailable: true}
	return &dmember{in: in, st: st, fact: f}, nil
}

func (s *dsim) publish() error {
	inv := make([]awsapi.Instance, 0, len(s.live))
	for _, m := range s.live {
		inv = append(inv, m.in)
	}
	return s.api.SetInstances(inv)
}

func (s *dsim) want() []string {
	var out []string
	for _, m := range s.live {
		out = append(out, strings.ToLower(m.in.Tags[2].Value)+".fleet.test")
	}
	slices.Sort(out)
	return out
}

// run is one run of members: it reports whether each saw exactly want.
func (s *dsim) run(ctx context.Context, what string, ms []*dmember) (DiscoverPeriod, error) {
	calls, t := s.api.Count(awsapi.EC2, "DescribeInstances"), time.Now()
	want := s.want()
	converged := true
	for _, m := range ms {
		set, err := peers.Resolve(ctx, peers.Input{Config: s.cfg, Facts: m.fact, State: m.st, Clock: s.clk})
		if err != nil {
			return DiscoverPeriod{}, fmt.Errorf("%s: %w", m.in.ID, err)
		}
		if err := set.Remember(m.st); err != nil {
			return DiscoverPeriod{}, err
		}
		var got []string
		for _, h := range set.Roles["app"] {
			got = append(got, h.Name)
		}
		if !slices.Equal(got, want) || len(set.RoleProblems) > 0 || set.Refused() != nil {
			if converged && os.Getenv("FLEET_DEBUG") != "" {
				fmt.Fprintln(os.Stderr, what, m.in.ID, len(got), len(want), set.RoleProblems, set.Refused())
			}
			converged = false
		}
	}
	return DiscoverPeriod{What: what, Runs: len(ms), Calls: s.api.Count(awsapi.EC2, "DescribeInstances") - calls,
		Converged: converged, Took: time.Since(t)}, nil
}

func simulateDiscovery(ctx context.Context, n int, dir string) (DiscoverResult, error) {
	res := DiscoverResult{N: n}
	api, err := awsapi.Listen("127.0.0.1:0", awsapi.Options{})
	if err != nil {
		return res, err
	}
	defer api.Close()
	api.AddCredentials(discoverCreds)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_EC2": api.URL, "AWS_ACCESS_KEY_ID": discoverCreds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": discoverCreds.SecretAccessKey, "AWS_SESSION_TOKEN": discoverCreds.Token,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "aws-credentials"),
	} {
		os.Setenv(k, v) // this process is the simulation alone
	}
	cfg, problems := config.Load(config.Source{Name: "discover.toml", Data: []byte(discoverConfig)})
	if cfg == nil {
		return res, fmt.Errorf("config: %v", problems)
	}
	s := &dsim{api: api, cfg: cfg, dir: dir, clk: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	for i := 0; i < n; i++ {
		m, err := s.boot()
		if err != nil {
			return res, err
		}
		s.live = append(s.live, m)
	}
	if err := s.publish(); err != nil {
		return res, err
	}
	add := func(p DiscoverPeriod, err error) (DiscoverPeriod, error) {
		if err == nil {
			res.Periods = append(res.Periods, p)
		}
		return p, err
	}
	period := func(what string) (DiscoverPeriod, error) {
		s.clk.Advance(timer)
		return add(s.run(ctx, what, s.live))
	}
	if _, err := add(s.run(ctx, "first boot of the whole group", s.live)); err != nil {
		return res, err
	}
	if _, err := period("steady state (timer, nothing changed)"); err != nil {
		return res, err
	}
	settle := func(change string) (int, error) {
		k := 0
		for i := 1; i <= 3; i++ {
			p, err := period(fmt.Sprintf("timer period %d after the %s", i, change))
			if err != nil {
				return 0, err
			}
			if p.Converged && k == 0 {
				k = i
			}
		}
		return k, nil
	}
	// A replacement: member n/2 terminates, a new instance boots.
	fresh, err := s.boot()
	if err != nil {
		return res, err
	}
	s.live[n/2] = fresh
	if err := s.publish(); err != nil {
		return res, err
	}
	if _, err := add(s.run(ctx, "the replacement's boot run", []*dmember{fresh})); err != nil {
		return res, err
	}
	if res.SettleReplace, err = settle("replacement"); err != nil {
		return res, err
	}
	// A scale-out by half: n/2 new instances boot together.
	var added []*dmember
	for i := 0; i < max(1, n/2); i++ {
		m, err := s.boot()
		if err != nil {
			return res, err
		}
		added = append(added, m)
	}
	s.live = append(s.live, added...)
	if err := s.publish(); err != nil {
		return res, err
	}
	if _, err := add(s.run(ctx, "the new instances' boot runs", added)); err != nil {
		return res, err
	}
	if res.SettleScaleOut, err = settle("scale-out"); err != nil {
		return res, err
	}
	return res, nil
}

// DiscoverTable renders the discovery results.
func DiscoverTable(rs []DiscoverResult) string {
	var b strings.Builder
	b.WriteString("| N | period | runs | DescribeInstances calls | calls per second at the timer's spread | every instance sees the group | simulated in |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, p := range r.Periods {
			rate := "–"
			if strings.HasPrefix(p.What, "timer") || strings.HasPrefix(p.What, "steady") {
				rate = fmt.Sprintf("%.2f", float64(p.Calls)/timer.Seconds())
			}
			fmt.Fprintf(&b, "| %d | %s | %d | %d | %s | %s | %.0f ms |\n", r.N, p.What, p.Runs, p.Calls, rate,
				map[bool]string{true: "yes", false: "no"}[p.Converged], float64(p.Took.Microseconds())/1000)
		}
	}
	return b.String()
}
