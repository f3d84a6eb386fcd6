package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	"github.com/ec2boot/ec2boot/bootstrap/lock"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// sigterm sends SIGTERM to this process, as systemd does to stop the unit,
// and waits until the handler has cancelled ctx.
func sigterm(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the run's context")
	}
}

// TestSIGTERMAtEachStepBoundary stops a run with a real SIGTERM at every
// point between two steps of `ec2boot run` (and while the metadata is being
// read), and checks that no later step ran, that nothing is reported
// failed, that no cache or state was written after the signal, and that the
// exit code and status file say interrupted.
func TestSIGTERMAtEachStepBoundary(t *testing.T) {
	var names []string
	for _, s := range Steps() {
		names = append(names, s.Name())
	}
	// Boundary i: the signal arrives after the first i steps finished;
	// boundary 0 is while the facts are being read, before any step.
	for i := 0; i <= len(names); i++ {
		label := "before " + names[min(i, len(names)-1)]
		if i == 0 {
			label = "while reading facts"
		} else if i == len(names) {
			label = "after " + names[i-1]
		}
		t.Run(label, func(t *testing.T) {
			fx := newFixture(t)
			ctx, stop := interrupt.Context(context.Background(), logging.Discard(), func() { t.Error("exited on the first signal") })
			defer stop()
			for j, name := range names {
				s := fx.step(name)
				s.changed = []string{"did " + name}
				if j == i-1 {
					s.hook = func(ctx context.Context, phase string) error {
						if phase == "apply" {
							sigterm(t, ctx)
						}
						return nil
					}
				}
			}
			if i == 0 {
				fx.md.factsHook = func(ctx context.Context) error {
					sigterm(t, ctx)
					return fmt.Errorf("metadata: %w", ctx.Err())
				}
			}
			rep := fx.runCtx(t, ctx, false)

			var want []string
			for _, name := range names[:i] {
				want = append(want, "plan "+name, "apply "+name)
			}
			if d := cmp.Diff(want, fx.calls); d != "" {
				t.Errorf("steps run (-want +got):\n%s", d)
			}
			checkInterrupted(t, fx, rep)
			var statuses, wantStatuses []string
			for _, s := range rep.Steps {
				statuses = append(statuses, s.Name+"="+s.Status)
			}
			if i > 0 {
				for j, name := range names {
					st := "changed"
					if j >= i {
						st = "skipped"
					}
					wantStatuses = append(wantStatuses, name+"="+st)
				}
			}
			if d := cmp.Diff(wantStatuses, statuses); d != "" {
				t.Errorf("step statuses (-want +got):\n%s", d)
			}
		})
	}
}

// TestSIGTERMInsideAStep: a step whose plan or apply is cut short reports
// interrupted, never failed, and is not applied after an interrupted plan.
func TestSIGTERMInsideAStep(t *testing.T) {
	for _, phase := range []string{"plan", "apply"} {
		t.Run(phase, func(t *testing.T) {
			fx := newFixture(t)
			ctx, stop := interrupt.Context(context.Background(), logging.Discard(), func() { t.Error("exited on the first signal") })
			defer stop()
			fx.step("before").changed = []string{"x"}
			fx.step("cut").hook = func(ctx context.Context, p string) error {
				if p != phase {
					return nil
				}
				sigterm(t, ctx)
				// What a cancelled request looks like to the step.
				return fmt.Errorf("lookup peer.example.test: %w", ctx.Err())
			}
			fx.step("after")
			rep := fx.runCtx(t, ctx, false)
			want := []string{"plan before", "apply before", "plan cut"}
			if phase == "apply" {
				want = append(want, "apply cut")
			}
			if d := cmp.Diff(want, fx.calls); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
			checkInterrupted(t, fx, rep)
			got := map[string]string{}
			for _, s := range rep.Steps {
				got[s.Name] = s.Status
			}
			if d := cmp.Diff(map[string]string{"before": "changed", "cut": "interrupted", "after": "skipped"}, got); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if !strings.Contains(rep.Message, "during cut") || !strings.Contains(rep.Message, "not started: after") {
				t.Errorf("message %q does not say where the run stopped", rep.Message)
			}
		})
	}
}

// checkInterrupted: exit code, status file, nothing failed, no cache or
// state written.
func checkInterrupted(t *testing.T, fx *fixture, rep *Report) {
	t.Helper()
	if rep.ExitCode != ExitInterrupted || rep.Outcome != "interrupted" {
		t.Errorf("exit %d outcome %q, want %d interrupted (%s)", rep.ExitCode, rep.Outcome, ExitInterrupted, rep.Message)
	}
	if !strings.Contains(rep.Message, "interrupted by terminated") {
		t.Errorf("message %q does not name the signal", rep.Message)
	}
	for _, s := range rep.Steps {
		if s.Status == "failed" {
			t.Errorf("step %s reported failed after an interruption: %s", s.Name, s.Error)
		}
	}
	got, err := ReadReport(hostfs.Root(fx.root))
	if err != nil || got == nil {
		t.Fatalf("status file: %+v, %v", got, err)
	}
	if got.ExitCode != ExitInterrupted || got.Outcome != "interrupted" {
		t.Errorf("status file says exit %d %q", got.ExitCode, got.Outcome)
	}
	for _, f := range fx.files(t) {
		if strings.HasPrefix(f, filepath.Clean("var/lib/ec2boot")+"/") {
			t.Errorf("state or cache written after the interruption: %s", f)
		}
	}
}

// TestInterruptedLockWait: a signal while waiting for another run's lock
// ends the wait with the interrupted code, not "locked".
func TestInterruptedLockWait(t *testing.T) {
	fx := newFixture(t)
	fx.step("a")
	l, err := lock.Acquire(context.Background(), filepath.Join(fx.root, lock.RunFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupted by terminated"))
	rep := fx.runCtx(t, ctx, false)
	if rep.ExitCode != ExitInterrupted {
		t.Errorf("exit %d (%s), want %d", rep.ExitCode, rep.Message, ExitInterrupted)
	}
	if len(fx.calls) != 0 {
		t.Errorf("steps ran: %v", fx.calls)
	}
}

// TestEarlyRelocationInterrupted: the early unit's run (ec2boot relocate)
// stopped before its step does not start it and says interrupted.
func TestEarlyRelocationInterrupted(t *testing.T) {
	fx := newFixture(t)
	fx.step("relocate")
	if rep := fx.run(t, false); rep.ExitCode != ExitOK {
		t.Fatalf("the run that caches facts: exit %d (%s)", rep.ExitCode, rep.Message)
	}
	fx.calls = nil
	ctx, stop := interrupt.Context(context.Background(), logging.Discard(), func() { t.Error("exited on the first signal") })
	defer stop()
	sigterm(t, ctx)
	rep := Early(ctx, Options{
		Root: hostfs.Root(fx.root), Log: logging.Discard(), Clock: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)),
		LockWait: 50 * time.Millisecond, Steps: []step.Step{fx.steps[0]},
	})
	if rep.ExitCode != ExitInterrupted || len(fx.calls) != 0 {
		t.Errorf("early run: exit %d (%s), calls %v; want %d and no step", rep.ExitCode, rep.Message, fx.calls, ExitInterrupted)
	}
	if len(rep.Steps) != 1 || rep.Steps[0].Status != "skipped" {
		t.Errorf("steps: %+v; want relocate skipped", rep.Steps)
	}
}
