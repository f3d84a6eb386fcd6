package run

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// TestStepResultsLoggedOnce: the run logs each change and each degraded
// condition a step reports exactly once, also when the step failed too.
func TestStepResultsLoggedOnce(t *testing.T) {
	fx := newFixture(t)
	s := fx.step("mixed")
	s.changed = []string{"changed one thing"}
	s.degraded = []string{"something is degraded"}
	s.applyErr = errors.New("and something failed")
	var logs bytes.Buffer
	rep := Run(context.Background(), Options{
		Root: hostfs.Root(fx.root), Metadata: fx.md, Log: logging.New(&logs, logging.JSON, false),
		Clock: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)), LockWait: time.Second,
		Steps: []step.Step{s},
	})
	if rep.ExitCode != ExitStepFailed {
		t.Fatalf("exit %d, want %d", rep.ExitCode, ExitStepFailed)
	}
	for _, msg := range []string{"changed one thing", "something is degraded", "and something failed"} {
		if n := strings.Count(logs.String(), msg); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", msg, n, logs.String())
		}
	}
}
