package ddns

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Ownership of a name (docs/dns.md, "Two claimants of one name"): a name is
// owned by the instance that registered it; the newer launch wins (a
// redeploy or blue/green hands the name to the new instance); the older
// yields and says so; equal launch times go to the greater instance-id.
//
// A provider that can keep an ownership record next to the name (RFC 2136,
// Route 53: a TXT record written atomically with the address) decides that
// from DNS: it implements OwnershipProvider. dyndns2 cannot store anything
// but the address, so for it the rule is carried out from what DNS shows
// over time: see decideContest.

// Claimant is an instance claiming a name.
type Claimant struct {
	InstanceID string
	LaunchTime time.Time
}

// Wins reports whether a keeps a name b also claims: the later launch
// wins; at equal launch times (or both unknown) the greater instance-id.
func (a Claimant) Wins(b Claimant) bool {
	if !a.LaunchTime.Equal(b.LaunchTime) {
		return a.LaunchTime.After(b.LaunchTime)
	}
	return a.InstanceID > b.InstanceID
}

// Owner is a name's owner as an ownership record says.
type Owner struct {
	Claimant
	Addrs []netip.Addr
}

// OwnershipProvider is a Provider that keeps an ownership record (instance-id
// and launch time) next to each name and writes it atomically with the
// address. With one, the step reads the owner, sends only when Wins says
// so, and makes the write conditional on the owner it read, so two
// claimants can never take turns.
type OwnershipProvider interface {
	Provider
	// Owner reads name's ownership record; found is false when there is none.
	Owner(ctx context.Context, name string) (owner Owner, found bool, err error)
	// SendOwned is Send with the ownership record of me written in the
	// same atomic change, on condition that the record is still prev (nil:
	// still absent). A lost race is an Outcome of Class Failed with Code
	// "owner-changed".
	SendOwned(ctx context.Context, batch []Change, me Claimant, prev map[string]*Owner) []Outcome
}

// Contest is what this instance remembers of another claimant of one of
// its records, for providers without ownership records (dyndns2). DNS
// confirmed our address; then it showed Other.
type Contest struct {
	// Other is the address DNS answered instead of ours: with dyndns2 the
	// only trace of the other claimant.
	Other netip.Addr `json:"other"`
	// Seen is when DNS first showed Other.
	Seen time.Time `json:"seen"`
	// Repaired is when this instance sent its address back: at most once
	// per episode.
	Repaired time.Time `json:"repaired,omitzero"`
	// Yielded is when it stopped: DNS showed another address again after
	// the repair. Nothing is sent while DNS shows Other.
	Yielded time.Time `json:"yielded,omitzero"`
	// Config is the record's fingerprint with the address this instance
	// claims: a new configuration or a new own address ends the contest.
	Config string `json:"config"`
}

// contestMemory is how long a won repair is remembered once DNS shows our
// address again: a second takeover within it makes this instance yield at
// once; after it, a change counts as a new episode (one repair again).
const contestMemory = 24 * time.Hour

// contestFP ties a contest to the record's configuration and our address.
func contestFP(hostFP string, want netip.Addr) string { return hostFP + "/" + want.String() }

// contestChange is a decision's change to one record type's contest: c nil
// forgets it.
type contestChange struct {
	typ string
	c   *Contest
}

// decideContest is the dyndns2 ownership rule for one record type whose
// DNS answer (foreign, non-empty) is not our address although DNS had
// confirmed it. It returns whether to send, the reason, and the contest to
// keep. The bound: an instance sends at most twice per episode (its first
// claim of a name someone else holds, then one repair), so two claimants
// make at most four requests before one of them yields.
func decideContest(now time.Time, r rr, fp string) (send bool, why string, c *Contest) {
	other := r.dns.addrs[0]
	for _, a := range r.dns.addrs {
		if a != r.want {
			other = a
			break
		}
	}
	prev := r.contest
	switch {
	case prev == nil || (!prev.Yielded.IsZero() && !slices0(r.dns.addrs, prev.Other)):
		// First change seen (or, after yielding, DNS moved on to yet
		// another address: a new episode): repair once.
		return true, fmt.Sprintf("%s: mismatch: %[2]s says %[3]s, want %[4]s, which %[2]s had confirmed: changed by another claimant or by hand; repairing once (if it changes again, this instance yields)",
			r.typ, r.dns.source(), showAddrs(r.dns.addrs), r.want), &Contest{Other: other, Seen: now, Repaired: now, Config: fp}
	case prev.Yielded.IsZero():
		y := *prev
		y.Other, y.Yielded = other, now
		return false, yieldReason(r, &y), &y
	}
	return false, yieldReason(r, prev), prev
}

func yieldReason(r rr, c *Contest) string {
	return fmt.Sprintf("%s: conflict: another claimant holds this name (DNS says %s); it took the name back after this instance repaired it at %s, so this instance yields since %s and sends nothing until DNS shows another address, its own address or the configuration changes, or --force",
		r.typ, showAddrs(r.dns.addrs), stamp(c.Repaired), stamp(c.Yielded))
}

// slices0 reports whether addrs is exactly one address, a.
func slices0(addrs []netip.Addr, a netip.Addr) bool { return len(addrs) == 1 && addrs[0] == a }
