package peers

import (
	"sort"
	"time"
)

// RoleSummary is one role's peers after a resolution: what status shows and
// the metrics count.
type RoleSummary struct {
	Role string `json:"role"`
	// Peers are the members with addresses, fresh or stale.
	Peers   int `json:"peers"`
	Stale   int `json:"stale"`
	Missing int `json:"missing"`
	// OldestStaleSince is when the longest-failing stale member last
	// resolved; nil when none is stale.
	OldestStaleSince *time.Time `json:"oldest_stale_since"`
}

// Summary is the set's roles, sorted by name.
func (s *Set) Summary() []RoleSummary {
	by := map[string]*RoleSummary{}
	get := func(role string) *RoleSummary {
		if r, ok := by[role]; ok {
			return r
		}
		r := &RoleSummary{Role: role}
		by[role] = r
		return r
	}
	for role, hosts := range s.Roles {
		get(role).Peers = len(hosts)
	}
	for _, h := range s.Stale {
		r := get(h.Role)
		r.Stale++
		if r.OldestStaleSince == nil || h.FailingSince.Before(*r.OldestStaleSince) {
			t := h.FailingSince
			r.OldestStaleSince = &t
		}
	}
	for _, h := range s.Missing {
		get(h.Role).Missing++
	}
	out := make([]RoleSummary, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Role < out[j].Role })
	return out
}
