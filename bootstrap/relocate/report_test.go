package relocate

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// TestPathStates: what status and the metrics show per path, after a first
// relocation and after a run that changes nothing.
func TestPathStates(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	want := []PathState{
		{Path: "/var/log", Relocated: true},
		{Path: "/var/tmp", Relocated: true},
		{Path: "/tmp", Reason: "already a tmpfs"},
	}
	for _, run := range []string{"first", "no-change"} {
		env := newEnv(t, root)
		p, err := New().Plan(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Apply(context.Background()); err != nil {
			t.Fatalf("%s run: %v", run, err)
		}
		got := PathStates(p)
		for i := range got {
			// The reason's first words are enough to tell it.
			if r, _, ok := strings.Cut(got[i].Reason, " (in memory"); ok {
				got[i].Reason = r
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s run: PathStates (-want +got):\n%s", run, d)
		}
	}
}
