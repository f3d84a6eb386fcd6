package peers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	fleetnames "github.com/ec2boot/ec2boot/bootstrap/names"
)

// RoleRecord finds a role's members under one DNS name that every member
// publishes its own address under: each A and AAAA answer is a member.
// NXDOMAIN or no address is an empty role (the shrink guard judges it);
// a timeout or a server failure is an outage (the role keeps its last
// known members).
type RoleRecord struct {
	Resolver Resolver
	Record   string
	// Name is the role's name template (LocalIPv4 and LocalIPv4Dashed are
	// the member's address); nil means ip-<address, dashed>.<record>.
	Name    *fleetnames.Template
	Timeout time.Duration
}

// Members resolves the role record.
func (s RoleRecord) Members(ctx context.Context) ([]Member, error) {
	cctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	addrs, err := s.Resolver.Lookup(cctx, s.Record)
	if errors.Is(err, ErrNoAddress) {
		return []Member{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("role record %s: %w", normalize(s.Record), err)
	}
	good, _ := usable(addrs) // rejected ones are reported by Resolve
	var out []Member
	for _, a := range good {
		d := fleetnames.Data{LocalIPv4: a.String(), LocalIPv4Dashed: dashed(a)}
		name, err := memberName(s.Name, d, "ip-"+dashed(a)+"."+normalize(s.Record))
		if err != nil {
			return nil, fmt.Errorf("role record %s, member %s: %w", normalize(s.Record), a, err)
		}
		out = append(out, Member{Name: name, Addrs: []netip.Addr{a}})
	}
	return finish(out), nil
}
