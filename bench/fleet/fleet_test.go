package main

import (
	"context"
	"testing"
	"time"
)

// The claims the benchmark document makes, on a small fleet: provider
// requests follow changed records (the fleet's first boot registers every
// name, a quiet period sends nothing, a redeploy sends one), DNS queries are
// constant per instance, and watchers converge in one timer period.
func TestFleetClaims(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range []int{4, 12} {
		r, err := simulate(ctx, n, t.TempDir())
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		want := map[string]int{
			"first boot of the whole fleet":         n,
			"steady state (timer, nothing changed)": 0,
			"the redeployed member's boot run":      1,
			"timer period 1 after the redeploy":     0,
		}
		perInstance := -1
		for _, p := range r.Periods {
			if w, ok := want[p.What]; ok && p.ProviderRequests != w {
				t.Errorf("N=%d %s: %d provider requests, want %d", n, p.What, p.ProviderRequests, w)
			}
			if p.What == "steady state (timer, nothing changed)" {
				if p.DNSQueries%n != 0 {
					t.Errorf("N=%d: %d DNS queries in a quiet period: not the same for every instance", n, p.DNSQueries)
				}
				perInstance = p.DNSQueries / n
			}
		}
		if want := 1 + 2*r.Watch; perInstance != want {
			t.Errorf("N=%d: %d DNS queries per instance and period, want %d (own record + A and AAAA per peer)", n, perInstance, want)
		}
		if r.PeriodsToSettle != 1 {
			t.Errorf("N=%d: watchers saw the new address after %d periods, want 1", n, r.PeriodsToSettle)
		}
	}
}
