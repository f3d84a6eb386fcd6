package member

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// The documented defaults: a member refreshes its record every 6 hours, and
// a record not refreshed for 24 hours (four missed refreshes) is stale.
const (
	RefreshEvery = 6 * time.Hour
	StaleAfter   = 24 * time.Hour
)

// ErrRaced is what a provider's Prune returns when its condition failed:
// the records changed since they were read, and nothing was removed.
var ErrRaced = errors.New("the role record changed since it was read")

// Roster is a role record as a provider read it.
type Roster interface {
	List() []Member
}

// Registry is a provider's side of a role record: the RFC 2136 and Route 53
// providers implement it.
type Registry interface {
	Read(ctx context.Context, record string) (Roster, error)
	// Publish adds or refreshes me, replacing exactly the records r holds
	// for me.InstanceID.
	Publish(ctx context.Context, r Roster, me Member) error
	// Withdraw removes every record r holds for instance.
	Withdraw(ctx context.Context, r Roster, instance string) error
	// Prune removes stale's records on condition that they are still
	// what r read (ErrRaced otherwise).
	Prune(ctx context.Context, r Roster, stale Member) error
}

// Report is what Sync did.
type Report struct {
	Published bool
	// Refreshed is the refresh time the record of me carries now.
	Refreshed time.Time
	Pruned    []Member
	// Raced lists members whose prune lost a race and that were left
	// alone after reading again (they refreshed, or another member
	// pruned them first).
	Raced []string
}

// Sync publishes me under record, unless the record already carries me
// with this address refreshed less than refresh ago, and prunes every other
// member not refreshed for age. A prune that loses a race reads the record
// again and tries once more if the member is still there and still stale.
func Sync(ctx context.Context, reg Registry, record string, me Member, refresh, age time.Duration) (Report, error) {
	var rep Report
	r, err := reg.Read(ctx, record)
	if err != nil {
		return rep, err
	}
	if cur, ok := current(r, me, refresh); ok {
		rep.Refreshed = cur
	} else {
		if err := reg.Publish(ctx, r, me); err != nil {
			return rep, fmt.Errorf("publishing %s under %s: %w", me.Addr, record, err)
		}
		rep.Published, rep.Refreshed = true, me.Refreshed
	}
	var stale []Member
	for _, m := range r.List() {
		if m.InstanceID != me.InstanceID && m.Stale(me.Refreshed, age) {
			stale = append(stale, m)
		}
	}
	if len(stale) > 0 && rep.Published {
		// The prune's condition is the record as it is now, with our
		// own refresh in it.
		if r, err = reg.Read(ctx, record); err != nil {
			return rep, err
		}
	}
	var errs []error
	for _, m := range stale {
		err := reg.Prune(ctx, r, m)
		if errors.Is(err, ErrRaced) {
			again, rerr := reg.Read(ctx, record)
			if rerr != nil {
				errs = append(errs, rerr)
				continue
			}
			r = again
			if !holds(r, m) {
				rep.Raced = append(rep.Raced, m.InstanceID)
				continue
			}
			err = reg.Prune(ctx, r, m)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("pruning %s (%s, refreshed %s) from %s: %w", m.InstanceID, m.Addr, m.Refreshed.UTC().Format(time.RFC3339), record, err))
			continue
		}
		rep.Pruned = append(rep.Pruned, m)
	}
	return rep, errors.Join(errs...)
}

// Leave removes me's records under record, whatever they say.
func Leave(ctx context.Context, reg Registry, record, instance string) (bool, error) {
	r, err := reg.Read(ctx, record)
	if err != nil {
		return false, err
	}
	if !holds(r, Member{InstanceID: instance}) {
		return false, nil
	}
	return true, reg.Withdraw(ctx, r, instance)
}

// current reports whether r carries exactly one record of me, with me's
// address, refreshed less than refresh before me.Refreshed.
func current(r Roster, me Member, refresh time.Duration) (time.Time, bool) {
	var mine []Member
	for _, m := range r.List() {
		if m.InstanceID == me.InstanceID {
			mine = append(mine, m)
		}
	}
	if len(mine) == 1 && mine[0].Addr == me.Addr && me.Refreshed.Sub(mine[0].Refreshed) < refresh {
		return mine[0].Refreshed, true
	}
	return time.Time{}, false
}

// holds reports whether r still has a record of m's instance (with m's
// exact value when m has a refresh time).
func holds(r Roster, m Member) bool {
	for _, x := range r.List() {
		if x.InstanceID != m.InstanceID {
			continue
		}
		if m.Refreshed.IsZero() || (x.Refreshed.Equal(m.Refreshed) && x.Addr == m.Addr) {
			return true
		}
	}
	return false
}

// Addrs returns the addresses of members, for messages.
func Addrs(ms []Member) []netip.Addr {
	out := make([]netip.Addr, len(ms))
	for i, m := range ms {
		out[i] = m.Addr
	}
	return out
}
