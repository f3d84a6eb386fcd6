package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/lock"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// fakeMetadata serves fixed facts and user-data, or fails (fault injection).
type fakeMetadata struct {
	facts    *facts.Facts
	factsErr error
	userData []byte
	udErr    error
	// factsHook runs first in Facts; an error it returns is Facts' error.
	factsHook func(ctx context.Context) error
}

func (m *fakeMetadata) Facts(ctx context.Context, _ config.IMDS) (*facts.Facts, error) {
	if m.factsHook != nil {
		if err := m.factsHook(ctx); err != nil {
			return nil, err
		}
	}
	if m.factsErr != nil {
		return nil, m.factsErr
	}
	f := *m.facts
	return &f, nil
}

func (m *fakeMetadata) UserData(context.Context) ([]byte, error) { return m.userData, m.udErr }

func instance(id string) *fakeMetadata {
	return &fakeMetadata{facts: &facts.Facts{InstanceID: id, LocalIPv4: netip.MustParseAddr("10.0.0.5"), Source: facts.SourceIMDS}}
}

// fakeStep records its calls and does what it is told.
type fakeStep struct {
	name     string
	planErr  error
	applyErr error
	changed  []string
	degraded []string
	panics   bool
	calls    *[]string
	// hook runs at the start of Plan ("plan") and Apply ("apply"); an
	// error it returns is the phase's error.
	hook func(ctx context.Context, phase string) error
}

func (s *fakeStep) Name() string { return s.name }

func (s *fakeStep) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	*s.calls = append(*s.calls, "plan "+s.name)
	if s.panics {
		panic("boom")
	}
	if s.hook != nil {
		if err := s.hook(ctx, "plan"); err != nil {
			return nil, err
		}
	}
	if s.planErr != nil {
		return nil, s.planErr
	}
	return &fakePlan{s: s, env: env}, nil
}

type fakePlan struct {
	s   *fakeStep
	env *step.Env
}

func (p *fakePlan) Describe(w io.Writer) {
	if len(p.s.changed) > 0 {
		fmt.Fprintf(w, "would: %s\n", strings.Join(p.s.changed, ", "))
	}
}

func (p *fakePlan) Apply(ctx context.Context) (step.Result, error) {
	*p.s.calls = append(*p.s.calls, "apply "+p.s.name)
	if p.s.hook != nil {
		if err := p.s.hook(ctx, "apply"); err != nil {
			return step.Result{}, err
		}
	}
	return step.Result{Changed: p.s.changed, Degraded: p.s.degraded}, p.s.applyErr
}

type fixture struct {
	root  string
	calls []string
	md    *fakeMetadata
	steps []*fakeStep
	out   bytes.Buffer
	log   bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	fx := &fixture{root: t.TempDir(), md: instance("i-0aaa")}
	return fx
}

func (fx *fixture) step(name string) *fakeStep {
	s := &fakeStep{name: name, calls: &fx.calls}
	fx.steps = append(fx.steps, s)
	return s
}

func (fx *fixture) run(t *testing.T, dryRun bool) *Report {
	t.Helper()
	return fx.runCtx(t, context.Background(), dryRun)
}

func (fx *fixture) runCtx(t *testing.T, ctx context.Context, dryRun bool) *Report {
	t.Helper()
	steps := make([]step.Step, len(fx.steps))
	for i, s := range fx.steps {
		steps[i] = s
	}
	fx.out.Reset()
	fx.log.Reset()
	return Run(ctx, Options{
		Root: hostfs.Root(fx.root), Metadata: fx.md, Log: zerolog.New(&fx.log), Out: &fx.out,
		Clock: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)), Version: "test",
		DryRun: dryRun, LockWait: 50 * time.Millisecond, Steps: steps,
	})
}

func (fx *fixture) write(t *testing.T, path, content string) {
	t.Helper()
	p := filepath.Join(fx.root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// files lists every file under the root.
func (fx *fixture) files(t *testing.T) []string {
	var out []string
	filepath.WalkDir(fx.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(fx.root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestAFailingStepDoesNotStopTheOthers(t *testing.T) {
	fx := newFixture(t)
	fx.step("first").changed = []string{"did one"}
	fx.step("broken").applyErr = errors.New("disk on fire")
	fx.step("plan-fails").planErr = errors.New("cannot plan")
	fx.step("panics").panics = true
	fx.step("last").changed = []string{"did last"}
	rep := fx.run(t, false)
	if rep.ExitCode != ExitStepFailed {
		t.Errorf("exit %d, want %d", rep.ExitCode, ExitStepFailed)
	}
	want := []string{"plan first", "apply first", "plan broken", "apply broken", "plan plan-fails", "plan panics", "plan last", "apply last"}
	if d := cmp.Diff(want, fx.calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	var statuses []string
	for _, s := range rep.Steps {
		statuses = append(statuses, s.Name+"="+s.Status)
	}
	if d := cmp.Diff([]string{"first=changed", "broken=failed", "plan-fails=failed", "panics=failed", "last=changed"}, statuses); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if !strings.Contains(rep.Steps[3].Error, "internal error in step panics: boom") {
		t.Errorf("panic reported as %q", rep.Steps[3].Error)
	}
	got, err := ReadReport(hostfs.Root(fx.root))
	if err != nil || got == nil || got.ExitCode != ExitStepFailed || len(got.Steps) != 5 {
		t.Errorf("status file = %+v, %v", got, err)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name  string
		setup func(fx *fixture)
		want  int
	}{
		{"all fine", func(fx *fixture) { fx.step("a") }, ExitOK},
		{"degraded", func(fx *fixture) { fx.step("a").degraded = []string{"root 91% full"} }, ExitDegraded},
		{"failed beats degraded", func(fx *fixture) {
			fx.step("a").degraded = []string{"x"}
			fx.step("b").applyErr = errors.New("y")
		}, ExitStepFailed},
		{"cached facts", func(fx *fixture) {
			fx.md.facts.Source, fx.md.facts.Degraded = facts.SourceCache, "metadata unreachable"
			fx.step("a")
		}, ExitNoMetadata},
		{"cached facts and degraded", func(fx *fixture) {
			fx.md.facts.Source = facts.SourceCache
			fx.step("a").degraded = []string{"x"}
		}, ExitNoMetadata},
		{"no metadata at all", func(fx *fixture) {
			fx.md.factsErr = errors.New("not running on EC2")
			fx.step("a")
		}, ExitNoMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			tt.setup(fx)
			if rep := fx.run(t, false); rep.ExitCode != tt.want {
				t.Errorf("exit %d (%s), want %d", rep.ExitCode, rep.Message, tt.want)
			}
		})
	}
}

func TestBadConfigurationChangesNothing(t *testing.T) {
	for name, setup := range map[string]func(fx *fixture){
		"local file": func(fx *fixture) { fx.write(t, DefaultConfigPath, "[dns]\nrefresh = \"soon\"\n") },
		"user-data": func(fx *fixture) {
			fx.md.userData = []byte("[[dns.records]]\nname = \"a.example.com\"\naccount = \"none\"\n")
		},
		"undecodable user-data": func(fx *fixture) {
			fx.md.userData = []byte("\x1f\x8b\x08\x00garbage")
		},
	} {
		t.Run(name, func(t *testing.T) {
			fx := newFixture(t)
			setup(fx)
			fx.step("a").changed = []string{"x"}
			before := fx.files(t)
			rep := fx.run(t, false)
			if rep.ExitCode != ExitInvalid {
				t.Fatalf("exit %d, want %d (%s)", rep.ExitCode, ExitInvalid, rep.Message)
			}
			if len(fx.calls) != 0 {
				t.Errorf("steps ran: %v", fx.calls)
			}
			after := fx.files(t)
			var created []string
			for _, f := range after {
				if !strings.HasPrefix(f, "run/ec2boot/") && !contains(before, f) {
					created = append(created, f)
				}
			}
			if len(created) > 0 {
				t.Errorf("a refused run wrote %v", created)
			}
			if !strings.Contains(rep.Message, "invalid configuration") && !strings.Contains(rep.Message, "user-data") {
				t.Errorf("message %q does not say what was wrong", rep.Message)
			}
		})
	}
}

func TestPlanWritesNothing(t *testing.T) {
	fx := newFixture(t)
	fx.md.userData = []byte("[disk]\nwarn_percent = 90\n")
	fx.step("a").changed = []string{"a file"}
	fx.step("b").applyErr = errors.New("never applied")
	rep := fx.run(t, true)
	if rep.ExitCode != ExitOK {
		t.Errorf("plan exit %d", rep.ExitCode)
	}
	if d := cmp.Diff([]string{"plan a", "plan b"}, fx.calls); d != "" {
		t.Errorf("plan applied something (-want +got):\n%s", d)
	}
	if files := fx.files(t); len(files) != 0 {
		t.Errorf("plan wrote %v", files)
	}
	if !strings.Contains(fx.out.String(), "== a\nwould: a file\n") {
		t.Errorf("plan output lacks the step's description:\n%s", fx.out.String())
	}
}

func TestCachesAreWrittenOnceAndForeignStateIgnored(t *testing.T) {
	fx := newFixture(t)
	fx.md.userData = []byte("[disk]\nwarn_percent = 90\n")
	fx.step("a")
	fx.run(t, false)
	cache := filepath.Join(fx.root, "var/lib/ec2boot/facts.json")
	st1, err := os.Stat(cache)
	if err != nil {
		t.Fatalf("facts not cached: %v", err)
	}
	fx.run(t, false)
	st2, _ := os.Stat(cache)
	if !os.SameFile(st1, st2) || !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("a no-change run rewrote the facts cache")
	}
	if st1.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %o, want 600", st1.Mode().Perm())
	}
	dir, _ := os.Stat(filepath.Join(fx.root, "var/lib/ec2boot"))
	if dir.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %o, want 700", dir.Mode().Perm())
	}

	// The image is launched again: a new instance must not take this
	// instance's user-data cache for its own.
	fx.md = instance("i-0bbb")
	fx.md.udErr = errors.New("user-data: connection reset")
	rep := fx.run(t, false)
	if rep.ExitCode != ExitNoMetadata || !strings.Contains(rep.Message, "connection reset") {
		t.Errorf("new instance without user-data: exit %d %q", rep.ExitCode, rep.Message)
	}
}

func TestAnotherRunHoldsTheLock(t *testing.T) {
	fx := newFixture(t)
	fx.step("a")
	l, err := lock.Acquire(context.Background(), filepath.Join(fx.root, lock.RunFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	rep := fx.run(t, false)
	if rep.ExitCode != ExitLocked || !strings.Contains(rep.Message, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("exit %d %q, want %d naming our pid", rep.ExitCode, rep.Message, ExitLocked)
	}
	if len(fx.calls) != 0 {
		t.Errorf("steps ran without the lock: %v", fx.calls)
	}
	// plan takes no lock.
	if rep := fx.run(t, true); rep.ExitCode != ExitOK {
		t.Errorf("plan under a held lock: exit %d", rep.ExitCode)
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []int
		want int
	}{
		{nil, ExitOK},
		{[]int{ExitOK, ExitDegraded}, ExitDegraded},
		{[]int{ExitDegraded, ExitNoMetadata}, ExitNoMetadata},
		{[]int{ExitNoMetadata, ExitStepFailed, ExitDegraded}, ExitStepFailed},
		{[]int{ExitStepFailed, ExitInvalid}, ExitInvalid},
	}
	for _, tt := range tests {
		if got := worst(tt.in...); got != tt.want {
			t.Errorf("worst(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUserDataOutageUsesThisInstancesCache(t *testing.T) {
	fx := newFixture(t)
	fx.md.userData = []byte("[disk]\nwarn_percent = 70\n")
	var seen int
	fx.step("probe")
	if rep := fx.run(t, false); rep.ExitCode != ExitOK {
		t.Fatalf("first run: exit %d %s", rep.ExitCode, rep.Message)
	}
	fx.md.userData, fx.md.udErr = nil, errors.New("user-data: connection refused")
	rep := Run(context.Background(), Options{
		Root: hostfs.Root(fx.root), Metadata: fx.md, Log: logging.Discard(), Out: io.Discard,
		Clock: clock.Real{}, LockWait: time.Second,
		Steps: []step.Step{stepFunc(func(env *step.Env) { seen = env.Config.Disk.WarnPercent })},
	})
	if rep.ExitCode != ExitNoMetadata {
		t.Errorf("exit %d, want %d", rep.ExitCode, ExitNoMetadata)
	}
	if seen != 70 {
		t.Errorf("steps saw disk.warn_percent %d, want the cached user-data's 70", seen)
	}
}

// stepFunc is a step that only looks at its environment.
type stepFunc func(env *step.Env)

func (stepFunc) Name() string { return "look" }
func (f stepFunc) Plan(_ context.Context, env *step.Env) (step.Plan, error) {
	f(env)
	return &fakePlan{s: &fakeStep{calls: new([]string)}}, nil
}

// Every run ends with one summary line, whatever its outcome, with its
// duration in units.
func TestEveryRunEndsWithOneSummaryLine(t *testing.T) {
	type summary struct {
		Level    string
		Message  string
		Outcome  string
		ExitCode int `json:"exit_code"`
		Changes  int
		Took     string
	}
	tests := []struct {
		name  string
		setup func(fx *fixture)
		want  summary
	}{
		{"nothing to change", func(fx *fixture) { fx.step("a") },
			summary{"info", "nothing to change", "ok", 0, 0, "0s"}},
		{"changes", func(fx *fixture) { fx.step("a").changed = []string{"x", "y"} },
			summary{"info", "2 change(s) applied", "ok", 0, 2, "0s"}},
		{"failed", func(fx *fixture) {
			fx.step("a").changed = []string{"x"}
			fx.step("b").applyErr = errors.New("boom")
		}, summary{"error", "run failed (exit 2): 1 change(s) applied", "failed", 2, 1, "0s"}},
		{"degraded", func(fx *fixture) { fx.step("a").degraded = []string{"root 95% full"} },
			summary{"warn", "run degraded (exit 4): nothing to change", "degraded", 4, 0, "0s"}},
		{"invalid", func(fx *fixture) {
			fx.md.userData = []byte("[dns\n")
			fx.step("a")
		}, summary{"error", "run invalid (exit 1): nothing to change", "invalid", 1, 0, "0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			tt.setup(fx)
			fx.run(t, false)
			lines := strings.Split(strings.TrimSpace(fx.log.String()), "\n")
			var last summary
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, last); d != "" {
				t.Errorf("last line (-want +got):\n%s\n%s", d, fx.log.String())
			}
			if n := strings.Count(fx.log.String(), `"exit_code":`); n != 1 {
				t.Errorf("%d summary lines:\n%s", n, fx.log.String())
			}
		})
	}
}

// The early unit's relocate ends with the same one summary line.
func TestEarlyEndsWithOneSummaryLine(t *testing.T) {
	fx := newFixture(t)
	rep := Early(context.Background(), Options{Root: hostfs.Root(fx.root), Log: zerolog.New(&fx.log),
		Clock: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)), LockWait: 50 * time.Millisecond})
	lines := strings.Split(strings.TrimSpace(fx.log.String()), "\n")
	var last struct {
		Message  string
		Outcome  string
		ExitCode *int `json:"exit_code"`
		Took     string
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 0 || last.ExitCode == nil || *last.ExitCode != 0 || last.Outcome != "ok" || last.Took != "0s" ||
		strings.Count(fx.log.String(), `"exit_code":`) != 1 {
		t.Errorf("early run's log:\n%s", fx.log.String())
	}
}
