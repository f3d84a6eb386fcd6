package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The claims docs/peers.md makes, on small groups: one DescribeInstances
// call per run and role (more only when the SDK retries), and every
// instance sees a replacement and a scale-out in the first timer period
// after the new instances' boot runs.
func TestDiscoverClaims(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range []int{4, 12} {
		r, err := simulateDiscovery(ctx, n, t.TempDir())
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		if len(r.Periods) != 10 {
			t.Fatalf("N=%d: %d periods simulated, want 10", n, len(r.Periods))
		}
		for _, p := range r.Periods {
			if p.Calls < p.Runs {
				t.Errorf("N=%d %s: %d calls for %d runs", n, p.What, p.Calls, p.Runs)
			}
			if strings.HasPrefix(p.What, "steady") && !p.Converged {
				t.Errorf("N=%d: the steady state did not see the group", n)
			}
		}
		if r.SettleReplace != 1 || r.SettleScaleOut != 1 {
			t.Errorf("N=%d: settled after %d period(s) (replacement) and %d (scale-out), want 1 and 1", n, r.SettleReplace, r.SettleScaleOut)
		}
	}
}
