package ddns

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/rfc2136"
	"github.com/ec2boot/ec2boot/bootstrap/dnsclient"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// rfc2136Provider puts the rfc2136 package behind Provider and
// OwnershipProvider.
type rfc2136Provider struct{ c *rfc2136.Client }

var _ OwnershipProvider = (*rfc2136Provider)(nil)

// Batch keeps every change in one batch: Send splits it into one UPDATE
// per zone, which is only known once the zones are looked up.
func (p *rfc2136Provider) Batch(changes []Change) [][]Change { return [][]Change{changes} }

func (p *rfc2136Provider) Describe(batch []Change) string { return p.c.Describe(toRFC2136(batch)) }

func (p *rfc2136Provider) Send(ctx context.Context, batch []Change) []Outcome {
	return p.outcomes(p.c.Send(ctx, toRFC2136(batch)))
}

func (p *rfc2136Provider) outcomes(rs []rfc2136.Result) []Outcome {
	out := make([]Outcome, len(rs))
	for i, r := range rs {
		out[i] = protocolOutcome(r.Class, r.Code, r.Detail, r.Account)
	}
	return out
}

// Owner implements OwnershipProvider: the ownership TXT record next to
// name, and the addresses name carries, at the zone's primary.
func (p *rfc2136Provider) Owner(ctx context.Context, name string) (Owner, bool, error) {
	o, addrs, err := p.c.ReadOwner(ctx, name)
	if err != nil || o == nil {
		return Owner{Addrs: addrs}, false, err
	}
	return Owner{Claimant: Claimant{InstanceID: o.InstanceID, LaunchTime: o.LaunchTime}, Addrs: addrs}, true, nil
}

// SendOwned implements OwnershipProvider: the addresses and me's ownership
// record in one UPDATE, sent only while the record is still prev[name] and
// compare-and-swapped on the server.
func (p *rfc2136Provider) SendOwned(ctx context.Context, batch []Change, me Claimant, prev map[string]*Owner) []Outcome {
	changes := toRFC2136(batch)
	mine := rfc2136.Owner{InstanceID: me.InstanceID, LaunchTime: me.LaunchTime}
	for i := range changes {
		changes[i].Owner, changes[i].CheckOwner = &mine, true
		if o := prev[batch[i].Name]; o != nil {
			changes[i].PrevOwner = &rfc2136.Owner{InstanceID: o.InstanceID, LaunchTime: o.LaunchTime}
		}
	}
	outs := p.outcomes(p.c.Send(ctx, changes))
	for i, o := range outs {
		switch o.Code {
		case "YXRRSET", "NXRRSET", "YXDOMAIN", "NXDOMAIN":
			// With an ownership record, any lost race is the owner's.
			outs[i].Code = "owner-changed"
		}
	}
	return outs
}

func toRFC2136(batch []Change) []rfc2136.Change {
	out := make([]rfc2136.Change, len(batch))
	for i, c := range batch {
		out[i] = rfc2136.Change{Name: c.Name, Addrs: c.Addrs}
	}
	return out
}

// openRFC2136 reads the account's key file and makes its provider. The key
// file gets password_file's checks (config.ReadSecretFile): no final link,
// no FIFO, a regular file of bounded size, a warning when others can read
// it or root does not own it.
func (s *Step) openRFC2136(ctx context.Context, env *step.Env, a *account, instanceID string) {
	key, err := readKeyFile(ctx, env, a.name, a.cfg)
	if err != nil {
		a.err = fmt.Errorf("account %s: %w", a.name, err)
		return
	}
	c := &rfc2136.Client{Server: a.cfg.Server, Zone: a.cfg.Zone, Key: key, TTL: uint32(a.cfg.TTL),
		Timeout: a.cfg.Timeout.Duration, Clock: env.Clock}
	if c.Server == "" || c.Zone == "" {
		res, err := dnsclient.ReadResolvConf(env.Root.Path("/etc/resolv.conf"))
		if err != nil {
			a.err = fmt.Errorf("account %s: finding the zone or server without a resolver (set zone and server): %w", a.name, err)
			return
		}
		c.Resolvers, c.Port = s.withPort(res), s.nsPort
	}
	// Everything that changes what is sent is in the fingerprint, so that
	// fixing the key or zone lifts a sticky error.
	a.fp = accountFingerprint(a.name, a.cfg, config.NewSecret(key.Name+"\x00"+key.Algorithm+"\x00"+key.Secret+"\x00"+
		a.cfg.Zone+"\x00"+strconv.Itoa(a.cfg.TTL)), instanceID)
	a.provider = &rfc2136Provider{c: c}
}

func readKeyFile(ctx context.Context, env *step.Env, name string, cfg config.Account) (rfc2136.Key, error) {
	data, warnings, err := config.ReadSecretFile(ctx, "key_file", "TSIG key", cfg.KeyFile, env.Root.Path(cfg.KeyFile))
	for _, w := range warnings {
		env.Log.Warn().Str("account", name).Msg(w)
	}
	if err != nil {
		return rfc2136.Key{}, err
	}
	key, err := rfc2136.ParseKeyFile(data, cfg.KeyName, cfg.Algorithm)
	if err != nil {
		return rfc2136.Key{}, fmt.Errorf("key_file %s: %w", cfg.KeyFile, err)
	}
	return key, nil
}

// withPort moves resolvers to the test port, when one is set.
func (s *Step) withPort(servers []string) []string {
	if s.nsPort == "" {
		return servers
	}
	out := make([]string, len(servers))
	for i, r := range servers {
		host, _, _ := net.SplitHostPort(r)
		out[i] = net.JoinHostPort(host, s.nsPort)
	}
	return out
}
