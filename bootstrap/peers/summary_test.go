package peers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummary(t *testing.T) {
	older := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := older.Add(time.Hour)
	s := &Set{
		Roles: map[string][]Host{
			"db":  {{Name: "db-1"}, {Name: "db-2"}, {Name: "db-3"}},
			"web": {},
		},
		Stale:   []Host{{Name: "db-2", Role: "db", FailingSince: newer}, {Name: "db-3", Role: "db", FailingSince: older}},
		Missing: []Host{{Name: "web-9", Role: "web"}},
	}
	want := []RoleSummary{
		{Role: "db", Peers: 3, Stale: 2, OldestStaleSince: &older},
		{Role: "web", Missing: 1},
	}
	if d := cmp.Diff(want, s.Summary()); d != "" {
		t.Errorf("Summary (-want +got):\n%s", d)
	}
}
