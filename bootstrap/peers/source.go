package peers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	fleetnames "github.com/ec2boot/ec2boot/bootstrap/names"
)

// Member is one peer a source found.
type Member struct {
	Name string `json:"name"`
	// Addrs are the member's addresses; empty for a listed name, which is
	// then looked up by name, on its own.
	Addrs []netip.Addr `json:"addrs,omitempty"`
	// InstanceID and Tags are the member's, when the source knows them
	// (EC2 tags).
	InstanceID string            `json:"instance_id,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// A RoleSource finds the members of one role: the names listed in the
// configuration, the instances DescribeInstances finds by their tags, or
// the addresses published under a DNS role record. An error means the
// source could not say (down, throttled, denied): the role then keeps its
// last known members. An empty answer without error is an answer, and the
// shrink guard judges it.
type RoleSource interface {
	Members(ctx context.Context) ([]Member, error)
}

// Static is a listed role: its names, looked up one by one.
type Static []string

// Members returns the names, without addresses.
func (s Static) Members(context.Context) ([]Member, error) {
	out := make([]Member, 0, len(s))
	for _, n := range s {
		out = append(out, Member{Name: normalize(n)})
	}
	return out, nil
}

// DeniedError is a source's "not allowed": it stays true until the
// configuration changes, so it is not asked again every run.
type DeniedError struct {
	Action string // e.g. ec2:DescribeInstances
	Err    error
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s denied: %v", e.Action, e.Err)
}

func (e *DeniedError) Unwrap() error { return e.Err }

// IsDenied reports whether err is a source's denial.
func IsDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}

// memberName makes a member's name from the role's template, or def when
// the role gives none, and checks it as a peer name.
func memberName(tmpl *fleetnames.Template, d fleetnames.Data, def string) (string, error) {
	name := def
	if tmpl != nil {
		var err error
		if name, err = tmpl.Expand(d); err != nil {
			return "", err
		}
	}
	name = normalize(name)
	switch {
	case name == "":
		return "", errors.New("no name")
	case !config.IsHostname(name):
		return "", fmt.Errorf("%q is not a valid DNS name", name)
	case config.ReservedHostname(name) || ReservedName(name):
		return "", fmt.Errorf("%q would shadow the instance metadata service or localhost", name)
	}
	return name, nil
}

// finish sorts members by name and merges members of one name (two
// instances whose Name tags agree), so that the same answer always gives
// the same list.
func finish(ms []Member) []Member {
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	out := ms[:0]
	for _, m := range ms {
		if n := len(out); n > 0 && out[n-1].Name == m.Name {
			out[n-1].Addrs = append(out[n-1].Addrs, m.Addrs...)
			continue
		}
		out = append(out, m)
	}
	return out
}
