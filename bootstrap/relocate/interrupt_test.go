package relocate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// TestInterruptedRelocationStartsNoPath: a run interrupted between its
// plan and its apply copies, verifies and mounts nothing and writes no
// marker; the next run relocates as usual.
func TestInterruptedRelocationStartsNoPath(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	p, err := New().Plan(context.Background(), newEnv(t, root))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := p.Apply(ctx)
	if !errors.Is(err, context.Canceled) || len(res.Changed) != 0 {
		t.Fatalf("interrupted apply: %+v, %v; want nothing done and an error wrapping context.Canceled", res, err)
	}
	for _, path := range []string{"var/log", "var/tmp"} {
		if m := mountsAt(t, filepath.Join(root, path)); len(m) != 0 {
			t.Errorf("/%s mounted after the interruption: %v", path, m)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "mnt/ec2boot", markerName)); err == nil {
		t.Error("marker written after the interruption")
	}
	if res, _, err := runStep(t, New(), newEnv(t, root)); err != nil || len(res.Changed) != 2 {
		t.Errorf("the next run: %+v, %v; want /var/log and /var/tmp relocated", res, err)
	}
}
