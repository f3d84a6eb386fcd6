// Package publish makes this instance a member of the DNS role records
// configured with peers.discover.<role>.publish: it adds its own address
// under the role record, refreshes it every 6 hours, prunes members that
// stopped refreshing 24 hours ago, and (`ec2boot stop`) removes itself.
// docs/peers.md, "Publishing", is the user's side of it.
package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// stateName is the state file: per role, what was last published.
const stateName = "publish"

// roleTimeout bounds the requests of one role in a run.
const roleTimeout = 30 * time.Second

// Entry is what this instance last published for one role.
type Entry struct {
	Record    string     `json:"record"`
	Account   string     `json:"account"`
	Addr      netip.Addr `json:"addr"`
	Refreshed time.Time  `json:"refreshed"`
}

// Opener gives the role record writer of a dns.accounts entry.
type Opener func(ctx context.Context, env *step.Env, account string) (member.Registry, error)

// Step publishes (run) or withdraws (stop) this instance's records.
type Step struct {
	leave bool
	open  Opener
}

// New returns the publish step of `ec2boot run`.
func New() *Step { return &Step{open: ddns.OpenMembers} }

// NewLeave returns the step of `ec2boot stop`: remove this instance from
// every role record it publishes under.
func NewLeave() *Step { return &Step{leave: true, open: ddns.OpenMembers} }

// Name implements step.Step.
func (s *Step) Name() string {
	if s.leave {
		return "leave"
	}
	return "publish"
}

// job is one role's decided work.
type job struct {
	role, record, account string
	addr                  netip.Addr
	why                   string
	// withdraw removes this instance from a record it no longer
	// publishes under (the role's publish, record or account changed).
	withdraw bool
}

// Plan implements step.Step: it reads the state only, so that a run with
// nothing due sends nothing at all.
func (s *Step) Plan(_ context.Context, env *step.Env) (step.Plan, error) {
	p := &Plan{s: s, env: env, now: env.Clock.Now(), state: map[string]Entry{}}
	if env.State != nil {
		if _, _, err := env.State.Load(stateName, &p.state); err != nil {
			env.Log.Warn().Err(err).Msg("publish state unreadable; every role record is read again")
			p.state = map[string]Entry{}
		}
	}
	peers := env.Config.Peers
	if !s.leave {
		p.withdrawals(env.Config)
	}
	for _, role := range peers.DiscoverNames() {
		d := peers.Discover[role]
		if d.Source != config.DiscoverDNS || d.Publish == nil {
			continue
		}
		j := job{role: role, record: strings.TrimSuffix(strings.ToLower(d.Record), "."), account: d.Publish.Account}
		if s.leave {
			j.why = "leaving"
			p.jobs = append(p.jobs, j)
			continue
		}
		a, why := address(env.Facts, d.Publish.PublishAddress())
		if why != "" {
			p.skipped = append(p.skipped, fmt.Sprintf("role %s: not published under %s: no usable %s", role, j.record, why))
			continue
		}
		j.addr = a
		last, ok := p.state[role]
		switch {
		case env.Force:
			j.why = "forced"
		case !ok:
			j.why = "not published yet"
		case last.Record != j.record || last.Account != j.account:
			j.why = "record or account changed"
		case last.Addr != a:
			j.why = fmt.Sprintf("address changed from %s", last.Addr)
		case p.now.Sub(last.Refreshed) >= member.RefreshEvery:
			j.why = fmt.Sprintf("refresh due (last %s)", last.Refreshed.UTC().Format(time.RFC3339))
		default:
			continue
		}
		p.jobs = append(p.jobs, j)
	}
	return p, nil
}

// withdrawals plans the removal of what the state says this instance
// published and the configuration no longer asks for. Through an account
// that is gone there is no way to remove it: the entry is forgotten, and
// the other members prune the record after 24 hours.
func (p *Plan) withdrawals(cfg *config.Config) {
	roles := make([]string, 0, len(p.state))
	for r := range p.state {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	for _, role := range roles {
		e := p.state[role]
		d, ok := cfg.Peers.Discover[role]
		if ok && d.Source == config.DiscoverDNS && d.Publish != nil &&
			strings.TrimSuffix(strings.ToLower(d.Record), ".") == e.Record && d.Publish.Account == e.Account {
			continue
		}
		if _, ok := cfg.DNS.Accounts[e.Account]; !ok {
			p.forget = append(p.forget, role)
			continue
		}
		p.jobs = append(p.jobs, job{role: role, record: e.Record, account: e.Account, withdraw: true,
			why: "role " + role + " no longer publishes under it"})
	}
}

// address is the instance's address of kind, or why there is none to
// publish: cached facts may be a stop/start old, so they are never
// published.
func address(f *facts.Facts, kind string) (netip.Addr, string) {
	if f == nil {
		return netip.Addr{}, kind
	}
	a, ok := f.Address(kind)
	if !ok || !a.IsValid() {
		return netip.Addr{}, kind
	}
	if f.Source == facts.SourceCache {
		return netip.Addr{}, kind + " (the metadata service is unreachable; a cached address is never published)"
	}
	return a.Unmap(), ""
}

// Plan is the decided work of one run.
type Plan struct {
	s       *Step
	env     *step.Env
	now     time.Time
	state   map[string]Entry
	jobs    []job
	skipped []string
	// forget lists state entries whose account is gone.
	forget []string
}

// Pending implements step.Pending.
func (p *Plan) Pending() bool { return len(p.jobs) > 0 || len(p.forget) > 0 }

// Describe implements step.Plan.
func (p *Plan) Describe(w io.Writer) {
	for _, r := range p.forget {
		e := p.state[r]
		fmt.Fprintf(w, "forget that role %s published under %s: account %s is gone, so the others prune it after %s\n", r, e.Record, e.Account, member.StaleAfter)
	}
	for _, j := range p.jobs {
		if p.s.leave || j.withdraw {
			fmt.Fprintf(w, "remove this instance from %s (role %s) through account %s\n", j.record, j.role, j.account)
			continue
		}
		fmt.Fprintf(w, "publish %s under %s (role %s) through account %s: %s; prune members not refreshed for %s\n",
			j.addr, j.record, j.role, j.account, j.why, member.StaleAfter)
	}
	for _, s := range p.skipped {
		fmt.Fprintln(w, s)
	}
}

// Apply implements step.Plan.
func (p *Plan) Apply(ctx context.Context) (step.Result, error) {
	var res step.Result
	res.Degraded = append(res.Degraded, p.skipped...)
	changed := false
	for _, r := range p.forget {
		e := p.state[r]
		p.env.Log.Warn().Str("role", r).Str("record", e.Record).Msgf("account %s is gone: this instance's record under %s cannot be removed; the other members prune it after %s", e.Account, e.Record, member.StaleAfter)
		delete(p.state, r)
		changed = true
	}
	id := ""
	if p.env.Facts != nil {
		id = p.env.Facts.InstanceID
	}
	var errs []error
	for _, j := range p.jobs {
		rctx, cancel := context.WithTimeout(ctx, roleTimeout)
		err := p.apply(rctx, j, id, &res)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("role %s (%s): %w", j.role, j.record, err))
			continue
		}
		changed = true
	}
	if changed && p.env.State != nil && !p.env.DryRun {
		if err := p.env.State.Save(stateName, p.state, p.now); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

func (p *Plan) apply(ctx context.Context, j job, id string, res *step.Result) error {
	reg, err := p.s.open(ctx, p.env, j.account)
	if err != nil {
		return err
	}
	if p.s.leave || j.withdraw {
		left, err := member.Leave(ctx, reg, j.record, id)
		if err != nil {
			return err
		}
		if left {
			res.Changed = append(res.Changed, fmt.Sprintf("removed %s from %s", id, j.record))
		}
		delete(p.state, j.role)
		return nil
	}
	me := member.Member{Role: j.role, InstanceID: id, Addr: j.addr, Refreshed: p.now.UTC().Truncate(time.Second)}
	rep, err := member.Sync(ctx, reg, j.record, me, member.RefreshEvery, member.StaleAfter)
	if rep.Published {
		res.Changed = append(res.Changed, fmt.Sprintf("published %s under %s (%s)", j.addr, j.record, j.why))
	}
	for _, m := range rep.Pruned {
		res.Changed = append(res.Changed, fmt.Sprintf("pruned %s (%s, not refreshed since %s) from %s",
			m.InstanceID, m.Addr, m.Refreshed.UTC().Format(time.RFC3339), j.record))
	}
	if len(rep.Raced) > 0 {
		p.env.Log.Info().Strs("members", rep.Raced).Str("record", j.record).Msg("left members alone that changed while being pruned")
	}
	if err != nil && !rep.Published && rep.Refreshed.IsZero() {
		return err
	}
	p.state[j.role] = Entry{Record: j.record, Account: j.account, Addr: j.addr, Refreshed: rep.Refreshed}
	return err
}
