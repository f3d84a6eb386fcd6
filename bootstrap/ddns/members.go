package ddns

import (
	"context"
	"fmt"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/rfc2136"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/route53"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// OpenMembers returns the dns.accounts entry name as a writer of DNS role
// records: the same key file, zone and credentials as its records use.
// Only rfc2136 and route53 accounts can write one (config validation says
// so first).
func OpenMembers(ctx context.Context, env *step.Env, name string) (member.Registry, error) {
	cfg, ok := env.Config.DNS.Accounts[name]
	if !ok {
		return nil, fmt.Errorf("no account %q in dns.accounts", name)
	}
	instanceID := ""
	if env.Facts != nil {
		instanceID = env.Facts.InstanceID
	}
	s, a := NewStep(), &account{name: name, cfg: cfg}
	switch cfg.Provider {
	case "rfc2136":
		s.openRFC2136(ctx, env, a, instanceID)
	case "route53":
		s.openRoute53(ctx, env, a, instanceID)
	default:
		return nil, fmt.Errorf("account %s is a %s account: a role record is written through an rfc2136 or route53 account", name, cfg.Provider)
	}
	if a.err != nil {
		return nil, a.err
	}
	switch p := a.provider.(type) {
	case *rfc2136Provider:
		return rfc2136.Members{C: p.c}, nil
	case *route53Provider:
		return route53.Members{C: p.c}, nil
	}
	return nil, fmt.Errorf("account %s: no role record writer", name)
}
