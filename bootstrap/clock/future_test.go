package clock

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFuture(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	y2099 := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{now.Add(-time.Hour), now, now.Add(time.Second), y2099}
	f := Future{Now: now}
	for i := range times {
		f.Past(&times[i])
	}
	want := []time.Time{now.Add(-time.Hour), now, now, now}
	if d := cmp.Diff(want, times); d != "" {
		t.Errorf("clamped (-want +got):\n%s", d)
	}
	if s := f.String(); !strings.HasPrefix(s, "2 time(s) in the future (latest 2099-01-01T00:00:00Z, now 2026-11-27T03:00:00Z) treated as now") {
		t.Errorf("String() = %q", s)
	}
	if s := (&Future{Now: now}).String(); s != "" {
		t.Errorf("nothing clamped, yet %q", s)
	}
}
