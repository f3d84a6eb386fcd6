package run

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/factsfile"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

// writeStep writes one file under the root, as hosts and render do.
type writeStep struct{ host string }

func (s writeStep) Name() string { return "write" }
func (s writeStep) Plan(_ context.Context, env *step.Env) (step.Plan, error) {
	return writePlan{env: env, host: s.host}, nil
}

type writePlan struct {
	env  *step.Env
	host string
}

func (p writePlan) Describe(io.Writer) {}
func (p writePlan) Apply(context.Context) (step.Result, error) {
	dest, err := p.env.Root.Dest(p.host)
	if err != nil {
		return step.Result{}, err
	}
	if _, err := atomicfile.Write(dest.Real, []byte("v\n"), atomicfile.Defaults()); err != nil {
		return step.Result{}, err
	}
	return step.Result{Changed: []string{p.host + ": written"}}, nil
}

func runWith(root string, at time.Time, steps ...step.Step) *Report {
	return Run(context.Background(), Options{
		Root: hostfs.Root(root), Metadata: instance("i-0aaa"), Log: logging.Discard(),
		Clock: clock.NewFake(at), Version: "test", LockWait: 50 * time.Millisecond, Steps: steps,
	})
}

func statusOf(rep *Report) []string {
	var out []string
	for _, s := range rep.Steps {
		out = append(out, s.Name+" "+s.Status)
	}
	return out
}

// A read-only root (the state directory missing on it, as on a fresh
// image) with /run still a writable tmpfs: the facts reach /run, the step
// that writes /etc fails alone, the state that cannot be saved is a failed
// part of the run, and the exit code and status say so.
func TestReadOnlyRoot(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root := t.TempDir()
	for _, d := range []string{"etc", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Mount(t, root, root, "", syscall.MS_BIND|syscall.MS_REC, "")
	testenv.Mount(t, "", root, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, "")
	testenv.Mount(t, "tmpfs", filepath.Join(root, "run"), "tmpfs", 0, "size=1m,mode=0755")
	if err := os.WriteFile(filepath.Join(root, "etc/probe"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("the root is not read-only: %v", err)
	}

	rep := runWith(root, time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), factsfile.NewStep(), writeStep{"/etc/app.conf"})
	if d := cmp.Diff([]string{"facts changed", "write failed", "state failed"}, statusOf(rep)); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	if rep.ExitCode != ExitStepFailed {
		t.Errorf("exit code %d, want %d", rep.ExitCode, ExitStepFailed)
	}
	if b, err := os.ReadFile(filepath.Join(root, factsfile.EnvPath)); err != nil || !strings.Contains(string(b), "i-0aaa") {
		t.Errorf("facts not in /run: %q, %v", b, err)
	}
	got, err := ReadReport(hostfs.Root(root))
	if err != nil || got == nil {
		t.Fatalf("status: %+v, %v", got, err)
	}
	if got.ExitCode != ExitStepFailed || got.Outcome != "failed" {
		t.Errorf("status says exit %d %q, want %d failed", got.ExitCode, got.Outcome, ExitStepFailed)
	}
}

// A full /run: the run cannot record its report, so `status` must not keep
// showing the previous run's success, and the run's exit code says it failed.
func TestFullRunDoesNotKeepThePreviousSuccess(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root := t.TempDir()
	run := filepath.Join(root, "run")
	for _, d := range []string{run, filepath.Join(root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Mount(t, "tmpfs", run, "tmpfs", 0, "size=64k,mode=0755")
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	if rep := runWith(root, t0, writeStep{"/etc/app.conf"}); rep.ExitCode != ExitOK {
		t.Fatalf("first run: exit %d: %+v", rep.ExitCode, rep)
	}
	if got, err := ReadReport(hostfs.Root(root)); err != nil || got == nil || got.Outcome != "ok" {
		t.Fatalf("first run's status: %+v, %v", got, err)
	}
	fill(t, filepath.Join(run, "filler"))

	rep := runWith(root, t0.Add(time.Hour), writeStep{"/etc/other.conf"})
	if rep.ExitCode != ExitStepFailed {
		t.Errorf("exit code %d, want %d: a run that cannot record itself failed", rep.ExitCode, ExitStepFailed)
	}
	got, err := ReadReport(hostfs.Root(root))
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if got == nil || got.Outcome != Unrecorded || got.ExitCode != ExitStepFailed {
		t.Errorf("status = %+v, want this run's short record: unrecorded, exit %d", got, ExitStepFailed)
	}
	if got != nil && !got.StartedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("status names the run of %s, want the failed one of %s", got.StartedAt, t0.Add(time.Hour))
	}
}

// fill writes until the filesystem is full.
func fill(t *testing.T, p string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for i := 0; ; i++ {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
		if i > 1<<16 {
			t.Fatalf("%s never filled up", p)
		}
	}
}
