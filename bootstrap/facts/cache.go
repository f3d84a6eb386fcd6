package facts

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// CacheName is the state file that keeps the last known facts.
const CacheName = "facts"

// SaveCached keeps fresh facts for runs that cannot reach the metadata
// service. Only facts read from the service are kept, never ones derived
// from the cache; the gathering time and warnings are left out so that an
// unchanged instance writes nothing. The store must be this instance's.
func SaveCached(store *state.Store, f *Facts, now time.Time) error {
	if f.Source != SourceIMDS {
		return nil
	}
	if store.InstanceID() != f.InstanceID {
		return fmt.Errorf("cache facts of %s in the state of %s: refused", f.InstanceID, store.InstanceID())
	}
	c := *f
	c.GatheredAt, c.Source, c.Degraded, c.Warnings = time.Time{}, "", "", nil
	return store.Save(CacheName, &c, now)
}

// LoadCached returns the last known facts, whichever instance saved them
// (savedBy), and since when they have been unchanged. found is false when
// there are none.
func LoadCached(store *state.Store) (f *Facts, savedBy string, since time.Time, found bool, err error) {
	var c Facts
	savedBy, since, found, err = store.LoadAny(CacheName, &c)
	if err != nil || !found {
		return nil, "", time.Time{}, false, err
	}
	if c.InstanceID == "" {
		c.InstanceID = savedBy
	}
	return &c, savedBy, since, true, nil
}

// fromCache builds degraded facts when the metadata service failed with
// cause: the cached facts if they are this instance's, checked against the
// interfaces; otherwise the instance-id the machine reports and the
// interfaces' own addresses.
func fromCache(opt Options, cause error) (*Facts, error) {
	cached, savedBy, since, found, err := LoadCached(opt.Cache)
	if err != nil {
		return nil, fmt.Errorf("%w; and the cached facts are unusable: %w", cause, err)
	}
	if opt.Clock != nil {
		// A cache "unchanged since 2099" was written by a skewed clock.
		since, _ = clock.NotAfter(since, opt.Clock.Now())
	}
	ifs, ifErr := opt.Interfaces()
	hint := opt.InstanceIDHint
	var f *Facts
	var why string
	switch {
	case found && (hint == "" || hint == savedBy):
		f = cached
		why = fmt.Sprintf("using the last known facts (unchanged since %s)", since.UTC().Format(time.RFC3339))
		if hint == "" {
			why += "; cannot confirm they are this instance's"
		}
	case hint != "":
		f = &Facts{InstanceID: hint}
		why = fmt.Sprintf("no cached facts for %s (the DMI asset tag); using interface addresses only", hint)
		if found {
			why = fmt.Sprintf("the cached facts are %s's, not %s's; using interface addresses only", savedBy, hint)
		}
	default:
		return nil, fmt.Errorf("%w; and there are no cached facts", cause)
	}
	f.Source = SourceCache
	f.GatheredAt = since.UTC()
	f.Degraded = fmt.Sprintf("instance metadata unavailable (%v); %s", cause, why)

	if ifErr != nil {
		f.Warnings = append(f.Warnings, fmt.Sprintf("cannot list interface addresses: %v", ifErr))
		return f, nil
	}
	for _, fam := range []struct {
		want4 bool
		addr  *netip.Addr
		name  string
	}{{true, &f.LocalIPv4, "local-ipv4"}, {false, &f.IPv6, "ipv6"}} {
		if fam.addr.IsValid() && hasAddr(ifs, *fam.addr) {
			continue
		}
		p, ok := primary(ifs, fam.want4)
		switch {
		case ok && fam.addr.IsValid():
			f.Warnings = append(f.Warnings, fmt.Sprintf("cached %s %s is on no interface; using %s from %s", fam.name, *fam.addr, p.Addr, p.Link))
			*fam.addr = p.Addr
		case ok:
			*fam.addr = p.Addr
		case fam.addr.IsValid():
			f.Warnings = append(f.Warnings, fmt.Sprintf("cached %s %s is on no interface, and no interface has a global address to use instead", fam.name, *fam.addr))
		}
	}
	return f, nil
}
