package ddns

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Step registers the configured records. It is step 3 of a run.
type Step struct {
	// client overrides the HTTP client (tests); nil builds one per plan.
	client *http.Client
	// nsPort overrides the port of the resolvers and authoritative servers
	// (tests: nothing listens on port 53 of loopback).
	nsPort string
}

// NewStep returns the dynamic DNS step.
func NewStep() *Step { return &Step{} }

// Name implements step.Step.
func (*Step) Name() string { return "ddns" }

// account is one configured account, ready to send.
type account struct {
	name     string
	cfg      config.Account
	provider Provider
	fp       string // configuration fingerprint, password included
	refresh  time.Duration
	err      error // why it cannot be used (unreadable password_file, bad server)
}

// item is one configured record and the decision about it.
type item struct {
	rec    config.Record
	name   string // lower case, no trailing dot
	acct   *account
	hostFP string
	rrs    []rr
	d      decision
	// owned: sent with this instance's ownership record, on condition
	// that the record is still prevOwner (ownership.go).
	owned     bool
	prevOwner *Owner
}

func (it *item) change() Change {
	c := Change{Name: it.name}
	for _, r := range it.rrs {
		c.Addrs = append(c.Addrs, r.want)
	}
	return c
}

// Plan reads facts, state and DNS and decides, per record, what to do. It
// changes nothing and sends nothing to providers.
func (s *Step) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	cfg := env.Config.DNS
	p := &Plan{env: env, started: env.Clock.Now(), deadline: time.Now().Add(cfg.Budget.Duration)}
	if len(cfg.Records) == 0 {
		return p, nil
	}
	ctx, cancel := context.WithDeadline(ctx, p.deadline)
	defer cancel()

	st, fresh, corrupt, repaired, err := loadState(env.State, p.started)
	if err != nil {
		return nil, fmt.Errorf("ddns: %w", err)
	}
	if repaired != "" {
		env.Log.Warn().Msg(repaired)
	}
	switch {
	case corrupt != nil:
		env.Log.Warn().Err(corrupt).Msg("ddns state unreadable; starting fresh (every record is checked against DNS)")
	case fresh:
		env.Log.Info().Msg("ddns state was written by another instance; ignored (every record is checked against DNS)")
	}
	p.gen, p.foreign = st.Gen, fresh

	instanceID := ""
	if env.State != nil {
		instanceID = env.State.InstanceID()
	}
	client := s.client
	if client == nil {
		client = NewHTTPClient()
	}
	p.client = client
	accounts := map[string]*account{}
	for _, r := range cfg.Records {
		if _, ok := accounts[r.Account]; ok {
			continue
		}
		accounts[r.Account] = s.openAccount(ctx, env, r.Account, cfg, client, instanceID)
	}
	p.accounts = accounts

	checker, cerr := NewChecker(cfg.CheckServer, env.Root.Path("/etc/resolv.conf"))
	if cerr == nil && s.nsPort != "" {
		checker.NSPort = s.nsPort
		for i, r := range checker.Resolvers {
			host, _, _ := net.SplitHostPort(r)
			checker.Resolvers[i] = net.JoinHostPort(host, s.nsPort)
		}
	}
	p.checker = checker

	now := p.started
	for _, r := range cfg.Records {
		a := accounts[r.Account]
		it := &item{rec: r, name: strings.ToLower(strings.TrimSuffix(r.Name, ".")), acct: a}
		p.items = append(p.items, it)
		if a.err != nil {
			it.d = decision{act: actBlocked, reasons: []string{a.err.Error()}}
			continue
		}
		it.hostFP = hostFingerprint(a.fp, r)
		in := decideIn{now: now, refresh: a.refresh, force: env.Force}
		for _, kind := range kinds(r.Address) {
			addr, why := usable(env.Facts, kind)
			if why != "" {
				in.missing = append(in.missing, why)
				continue
			}
			typ := "A"
			if addr.Is6() {
				typ = "AAAA"
			}
			fp := contestFP(it.hostFP, addr)
			c := st.Contests[recordKey(a.name, it.name, typ)]
			if c != nil && c.Config != fp {
				c = nil // another configuration or address: forgotten on apply
			}
			it.rrs = append(it.rrs, rr{typ: typ, want: addr, state: st.Records[recordKey(a.name, it.name, typ)], contest: c, fp: fp})
		}
		if len(in.missing) == 0 && !env.Force {
			for i := range it.rrs {
				if tp, ok := a.provider.(TruthProvider); ok {
					it.rrs[i].dns = truthLookup(ctx, tp, it.name, it.rrs[i].typ)
					continue
				}
				it.rrs[i].dns = p.lookup(ctx, it.name, it.rrs[i].typ, cerr)
			}
		}
		in.rrs = it.rrs
		if as := st.Accounts[a.name]; as != nil {
			if b := as.Sticky; b != nil && b.Config == a.fp {
				in.accountSticky = b
			}
			if b := as.Hold; b != nil && b.Config == a.fp {
				in.hold = b
			}
		}
		if b := st.Hosts[hostKey(a.name, it.name)]; b != nil && b.Config == it.hostFP {
			in.hostSticky = b
		}
		it.d = decide(in)
		p.decideOwner(ctx, it)
	}
	return p, nil
}

func (p *Plan) lookup(ctx context.Context, name, typ string, checkerErr error) answer {
	if checkerErr != nil {
		return answer{err: checkerErr}
	}
	qt := dns.TypeA
	if typ == "AAAA" {
		qt = dns.TypeAAAA
	}
	addrs, err := p.checker.Lookup(ctx, name, qt)
	return answer{addrs: addrs, err: err, where: p.checker.Where(name)}
}

func (s *Step) openAccount(ctx context.Context, env *step.Env, name string, cfg config.DNS, client *http.Client, instanceID string) *account {
	a := &account{name: name, cfg: cfg.Accounts[name], refresh: cfg.RefreshFor(name)}
	switch a.cfg.Provider {
	case "rfc2136":
		s.openRFC2136(ctx, env, a, instanceID)
		return a
	case "route53":
		s.openRoute53(ctx, env, a, instanceID)
		return a
	}
	var hostPath string
	if a.cfg.PasswordFile != "" {
		hostPath = env.Root.Path(a.cfg.PasswordFile)
	}
	pw, warnings, err := config.LoadSecret(ctx, a.cfg.Password, a.cfg.PasswordFile, hostPath)
	for _, w := range warnings {
		env.Log.Warn().Str("account", name).Msg(w)
	}
	if err != nil {
		a.err = fmt.Errorf("account %s: %w", name, err)
		return a
	}
	a.fp = accountFingerprint(name, a.cfg, pw, instanceID)
	prov, err := NewDyndns2(a.cfg, pw, UserAgent(env.Version), client)
	if err != nil {
		a.err = fmt.Errorf("account %s: %w", name, err)
		return a
	}
	a.provider = prov
	return a
}

// kinds splits a record's address setting into fact kinds, IPv4 first.
func kinds(address string) []string {
	return strings.Split(address, "+")
}

// usable returns the instance's address of kind, or why there is none that
// may be registered.
func usable(f *facts.Facts, kind string) (netip.Addr, string) {
	if f == nil {
		return netip.Addr{}, kind
	}
	a, ok := f.Address(kind)
	if !ok {
		return netip.Addr{}, kind
	}
	if f.Source == facts.SourceCache {
		// Cached facts may be a stop/start old: a public address in
		// particular changes then. Never register what was not just read.
		return netip.Addr{}, fmt.Sprintf("%s (the metadata service is unreachable; a cached address is never registered)", kind)
	}
	a = a.Unmap()
	wantV6 := kind == facts.IPv6
	switch {
	case a.Is6() != wantV6:
		return netip.Addr{}, fmt.Sprintf("%s (%s is the wrong family)", kind, a)
	case a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast():
		return netip.Addr{}, fmt.Sprintf("%s (%s is not routable)", kind, a)
	}
	return a, ""
}
