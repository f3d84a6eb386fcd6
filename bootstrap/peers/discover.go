package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	fleetnames "github.com/ec2boot/ec2boot/bootstrap/names"
)

// discover asks the source of every discovered role for its members. A
// source that does not answer leaves its role at the last known members
// for peers.stale_after, with their age, as a listed name that stops
// resolving does; a denial is remembered and not asked again until the
// role's configuration changes or the run is forced.
func (s *Set) discover(ctx context.Context, in Input, res Resolver) error {
	cfg := in.Config.Peers
	for _, role := range cfg.DiscoverNames() {
		d := cfg.Discover[role]
		s.Roles[role] = []Host{}
		prev := s.mem.Discovered[role]
		key := discoverKey(d)
		var members []Member
		var err error
		sticky := prev.Denied != "" && prev.Key == key && !in.Force
		if sticky {
			err = fmt.Errorf("%s (remembered: not asked again until peers.discover.%s changes or run --force)", prev.Denied, role)
		} else {
			var src RoleSource
			if src, err = s.source(ctx, in, res, role, d); err == nil {
				members, err = src.Members(ctx)
			}
		}
		if interrupt.Cancelled(ctx) {
			return fmt.Errorf("peers: role %s: interrupted: %w", role, context.Cause(ctx))
		}
		if err != nil {
			s.sourceFailed(role, d, prev, key, err, sticky, cfg.StaleAfter.Duration)
		} else {
			s.disc[role] = discovered{Members: members}
			for _, m := range members {
				h := Host{Name: m.Name, Role: role, Source: sourceOf(d), InstanceID: m.InstanceID, Tags: m.Tags}
				good, rejected := usable(m.Addrs)
				for _, w := range rejected {
					s.Warnings = append(s.Warnings, fmt.Sprintf("peer %s (role %s): %s", m.Name, role, w))
				}
				if len(good) == 0 {
					s.Warnings = append(s.Warnings, fmt.Sprintf("peer %s (role %s): no usable address of the kinds %s", m.Name, role, d.Address))
					continue
				}
				h.Addrs = s.capAddrs(m.Name, role, good, cfg.MaxAddresses)
				s.Roles[role] = append(s.Roles[role], h)
			}
		}
		s.roles[role] = len(s.Roles[role])
	}
	return nil
}

// sourceFailed keeps the role at its last known members, or leaves it
// empty when there are none or they are older than staleAfter.
func (s *Set) sourceFailed(role string, d config.Discover, prev discovered, key string, err error, sticky bool, staleAfter time.Duration) {
	mem := prev
	since := s.now
	if prev.FailingSince != nil && !prev.FailingSince.After(s.now) {
		since = *prev.FailingSince
	}
	mem.FailingSince = &since
	if IsDenied(err) && !sticky {
		mem.Denied, mem.Key = err.Error(), key
	}
	s.disc[role] = mem
	what := fmt.Sprintf("role %s (source %s)", role, d.Source)
	switch {
	case len(prev.Members) == 0:
		msg := fmt.Sprintf("%s has no members: %v; none known from earlier runs", what, err)
		s.RoleProblems = append(s.RoleProblems, msg)
		s.roleEmpty[role] = msg
	case s.now.Sub(since) > staleAfter:
		msg := fmt.Sprintf("%s has no members: %v; dropped its %d last known members: last answered %s ago, more than peers.stale_after %s", what, err, len(prev.Members), age(s.now, since), staleAfter)
		s.RoleProblems = append(s.RoleProblems, msg)
		s.roleEmpty[role] = msg
	default:
		s.RoleProblems = append(s.RoleProblems, fmt.Sprintf("%s is stale: kept at its %d last known members, not answering for %s (since %s): %v",
			what, len(prev.Members), age(s.now, since), since.UTC().Format(time.RFC3339), err))
		for _, m := range prev.Members {
			good, _ := usable(m.Addrs)
			if len(good) == 0 {
				continue
			}
			s.Roles[role] = append(s.Roles[role], Host{Name: m.Name, Role: role, Addrs: s.capAddrs(m.Name, role, good, s.maxAddrs),
				Source: FromStale, FailingSince: since, Problem: err.Error(), InstanceID: m.InstanceID, Tags: m.Tags})
		}
	}
}

// source makes the source of a discovered role.
func (s *Set) source(ctx context.Context, in Input, res Resolver, role string, d config.Discover) (RoleSource, error) {
	if src, ok := in.Sources[role]; ok {
		return src, nil
	}
	var tmpl *fleetnames.Template
	if d.Name != "" {
		var err error
		if tmpl, err = fleetnames.Parse(d.Name); err != nil {
			return nil, fmt.Errorf("peers.discover.%s.name: %w", role, err)
		}
	}
	timeout := in.Config.Peers.Timeout.Duration
	switch d.Source {
	case config.DiscoverDNS:
		return RoleRecord{Resolver: res, Record: d.Record, Name: tmpl, Timeout: timeout}, nil
	case config.DiscoverEC2:
		if in.Facts == nil {
			return nil, fmt.Errorf("no instance facts: the region and the metadata service are unknown")
		}
		region := d.Region
		if region == "" {
			region = in.Facts.Region
		}
		if region == "" {
			return nil, fmt.Errorf("no region: the instance's facts have none; set peers.discover.%s.region", role)
		}
		filters, err := EC2Filters(d, in.Facts.Tags[ASGTag])
		if err != nil {
			return nil, err
		}
		client, err := NewEC2Client(ctx, region, in.Facts.MetadataEndpoint)
		if err != nil {
			return nil, err
		}
		return EC2{Describe: client.DescribeInstances, Filters: filters, Addresses: d.AddressKinds(), Name: tmpl, Region: region, Timeout: ec2Timeout(timeout)}, nil
	}
	return nil, fmt.Errorf("unknown source %q", d.Source)
}

// ec2Timeout bounds one DescribeInstances call, credentials included: a
// few times a DNS lookup's deadline, and never under 5 seconds.
func ec2Timeout(lookup time.Duration) time.Duration {
	return max(5*lookup, 5*time.Second)
}

func sourceOf(d config.Discover) Source {
	if d.Source == config.DiscoverEC2 {
		return FromEC2
	}
	return FromDNS
}

// discoverKey identifies a role's configuration: a denial is remembered
// for it alone.
func discoverKey(d config.Discover) string {
	b, _ := json.Marshal(d) // maps marshal in key order
	return string(b)
}
