package ddns

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/route53"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// TruthProvider is a Provider whose API, not DNS, says what a name
// carries (Route 53: a private zone cannot be asked from outside its VPC,
// and the VPC resolver caches). The step asks it instead of DNS.
type TruthProvider interface {
	Provider
	// Lookup returns the addresses of type typ ("A", "AAAA") name
	// carries, and where that was read, for messages.
	Lookup(ctx context.Context, name, typ string) (addrs []netip.Addr, where string, err error)
}

// route53Provider puts the route53 package behind Provider,
// TruthProvider and OwnershipProvider.
type route53Provider struct {
	c  *route53.Client
	me Claimant
}

var (
	_ TruthProvider     = (*route53Provider)(nil)
	_ OwnershipProvider = (*route53Provider)(nil)
)

// Batch keeps every change of a run in one change batch: atomic, and one
// request against the account's rate limit.
func (p *route53Provider) Batch(changes []Change) [][]Change { return [][]Change{changes} }

// Describe renders the batch from what the plan read, ownership records
// included; it reads nothing new (its context is done before it starts).
func (p *route53Provider) Describe(batch []Change) string {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return p.c.Describe(ctx, toRoute53(batch), p.owned(ctx, batch))
}

func (p *route53Provider) Send(ctx context.Context, batch []Change) []Outcome {
	return fromRoute53(p.c.Send(ctx, toRoute53(batch), nil))
}

func (p *route53Provider) SendOwned(ctx context.Context, batch []Change, me Claimant, prev map[string]*Owner) []Outcome {
	o := &route53.Owned{Prev: map[string]*route53.Owner{}}
	for name, ow := range prev {
		if ow != nil {
			o.Prev[route53Name(name)] = &route53.Owner{InstanceID: ow.InstanceID, LaunchTime: ow.LaunchTime}
		}
	}
	return fromRoute53(p.c.Send(ctx, toRoute53(batch), o))
}

// owned is the ownership request matching what the plan read; none when
// the launch time is unknown (the step then sends without ownership).
func (p *route53Provider) owned(ctx context.Context, batch []Change) *route53.Owned {
	if p.me.InstanceID == "" || p.me.LaunchTime.IsZero() {
		return nil
	}
	o := &route53.Owned{Prev: map[string]*route53.Owner{}}
	for _, c := range batch {
		if s, err := p.c.Read(ctx, c.Name); err == nil {
			if ow, ok := s.OwnerOf(); ok {
				o.Prev[route53Name(c.Name)] = &ow
			}
		}
	}
	return o
}

func (p *route53Provider) Owner(ctx context.Context, name string) (Owner, bool, error) {
	s, err := p.c.Read(ctx, name)
	if err != nil {
		return Owner{}, false, err
	}
	ow, ok := s.OwnerOf()
	if !ok {
		return Owner{}, false, nil
	}
	return Owner{Claimant: Claimant{InstanceID: ow.InstanceID, LaunchTime: ow.LaunchTime},
		Addrs: append(route53.Addrs(s.A), route53.Addrs(s.AAAA)...)}, true, nil
}

func (p *route53Provider) Lookup(ctx context.Context, name, typ string) ([]netip.Addr, string, error) {
	where := "the Route 53 API"
	if z, err := p.c.Zone(ctx); err == nil {
		where += " (zone " + z + ")"
	}
	s, err := p.c.Read(ctx, name)
	if err != nil {
		return nil, where, err
	}
	if typ == "AAAA" {
		return route53.Addrs(s.AAAA), where, nil
	}
	return route53.Addrs(s.A), where, nil
}

func route53Name(name string) string { return route53.OwnerName(name)[len("_ec2boot."):] }

func toRoute53(batch []Change) []route53.Change {
	out := make([]route53.Change, len(batch))
	for i, c := range batch {
		out[i] = route53.Change{Name: c.Name, Addrs: c.Addrs}
	}
	return out
}

func fromRoute53(rs []route53.Result) []Outcome {
	out := make([]Outcome, len(rs))
	for i, r := range rs {
		out[i] = protocolOutcome(r.Class, r.Code, r.Detail, r.Account)
	}
	return out
}

// openRoute53 makes the account's client; it sends nothing. Credentials
// come from the SDK's default chain: on an instance the role, through the
// same metadata service this run reads.
func (s *Step) openRoute53(ctx context.Context, env *step.Env, a *account, instanceID string) {
	cfg := route53.Config{ZoneID: a.cfg.ZoneID, Zone: a.cfg.Zone, Private: a.cfg.Private, TTL: int64(a.cfg.TTL),
		Wait: a.cfg.Wait, IMDSEndpoint: env.IMDSEndpoint, Timeout: a.cfg.Timeout.Duration}
	me := Claimant{InstanceID: instanceID}
	if env.Facts != nil {
		me.LaunchTime = env.Facts.LaunchTime
		if me.InstanceID == "" {
			me.InstanceID = env.Facts.InstanceID
		}
	}
	cfg.Me = route53.Owner{InstanceID: me.InstanceID, LaunchTime: me.LaunchTime}
	c, err := route53.New(ctx, cfg)
	if err != nil {
		a.err = fmt.Errorf("account %s: %w", a.name, err)
		return
	}
	private := ""
	if a.cfg.Private != nil {
		private = strconv.FormatBool(*a.cfg.Private)
	}
	// Everything that changes what is written is in the fingerprint, so
	// that fixing the zone or the TTL lifts a sticky error. The role's
	// permissions are not: after fixing IAM, run --force.
	a.fp = accountFingerprint(a.name, a.cfg, config.NewSecret(a.cfg.ZoneID+"\x00"+a.cfg.Zone+"\x00"+private+"\x00"+
		strconv.Itoa(a.cfg.TTL)+"\x00"+strconv.FormatBool(a.cfg.Wait)), instanceID)
	a.provider = &route53Provider{c: c, me: me}
	// Route 53 never expires a record: a refresh would only cost a read
	// and a request that changes nothing.
	a.refresh = 0
}
