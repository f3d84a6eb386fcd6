package render

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

// fakeUnits records reloads and restarts; fail makes a unit's jobs fail.
type fakeUnits struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]bool
	// onCall runs after each call is recorded (fault injection).
	onCall func(call string)
}

func (f *fakeUnits) do(verb, unit string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, verb+" "+unit)
	if f.onCall != nil {
		f.onCall(verb + " " + unit)
	}
	if f.fail[unit] {
		return errors.New("job failed")
	}
	return nil
}
func (f *fakeUnits) Reload(_ context.Context, u string) error  { return f.do("reload", u) }
func (f *fakeUnits) Restart(_ context.Context, u string) error { return f.do("restart", u) }
func (f *fakeUnits) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

type dnsMap map[string]string

func (m dnsMap) Lookup(_ context.Context, name string) ([]netip.Addr, error) {
	if a, ok := m[name]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, peers.ErrNoAddress
}

type fixture struct {
	root  string
	cfg   *config.Config
	dns   dnsMap
	units *fakeUnits
	clk   *clock.Fake
}

func newFixture(t *testing.T) *fixture {
	root := t.TempDir()
	for _, d := range []string{"etc/ec2boot", "etc/nginx", "etc/haproxy", "etc/app"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	for _, n := range []string{"nginx-upstream.conf.tmpl", "haproxy-backend.cfg.tmpl", "peers.env.tmpl"} {
		b, err := os.ReadFile(filepath.Join("../../templates", n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "etc/ec2boot", n), b, 0o644)
	}
	cfg := config.Default()
	cfg.Peers.Roles = map[string][]string{"web": {"web-1.example.test"}, "app": {"app-1.example.test"}}
	cfg.Vars = map[string]any{}
	cfg.Templates = []config.Template{
		{Source: "nginx-upstream.conf.tmpl", Destination: "/etc/nginx/upstream.conf", Reload: []string{"nginx.service"}},
		{Source: "haproxy-backend.cfg.tmpl", Destination: "/etc/haproxy/backend.cfg", Reload: []string{"haproxy.service"}, Mode: "0640"},
		{Source: "peers.env.tmpl", Destination: "/etc/app/peers.env", Reload: []string{"nginx.service"}, Restart: []string{"app.service"}},
	}
	for i := range cfg.Templates {
		cfg.Templates[i].Timeout.Duration = 10 * time.Second
	}
	return &fixture{root: root, cfg: cfg, units: &fakeUnits{fail: map[string]bool{}},
		dns: dnsMap{"web-1.example.test": "10.0.2.1", "app-1.example.test": "10.0.3.1"},
		clk: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC))}
}

func (fx *fixture) env(t *testing.T, dryRun bool) *step.Env {
	store, err := state.Open(filepath.Join(fx.root, "var/lib/ec2boot"), "i-0123", dryRun)
	if err != nil {
		t.Fatal(err)
	}
	env := &step.Env{Root: hostfs.Root(fx.root), Config: fx.cfg, State: store, Log: logging.Discard(), Clock: fx.clk, DryRun: dryRun,
		Facts: &facts.Facts{InstanceID: "i-0123", LocalIPv4: netip.MustParseAddr("10.0.0.9")}}
	return env
}

// step is the render step resolving peers with the fixture's DNS map.
func (fx *fixture) step() step.Step {
	return NewWithUnits(fx.units, func(ctx context.Context, env *step.Env) (*peers.Set, error) {
		return peers.Lazy(peers.Input{Config: env.Config, Facts: env.Facts, State: env.State, Clock: env.Clock, Resolver: fx.dns})(ctx)
	})
}

func (fx *fixture) run(t *testing.T) (string, step.Result, error) {
	t.Helper()
	p, err := fx.step().Plan(context.Background(), fx.env(t, false))
	if err != nil {
		return "", step.Result{}, err
	}
	var b bytes.Buffer
	p.Describe(&b)
	res, err := p.Apply(context.Background())
	return b.String(), res, err
}

func (fx *fixture) read(t *testing.T, p string) string {
	b, _ := os.ReadFile(filepath.Join(fx.root, p))
	return string(b)
}

func (fx *fixture) stat(t *testing.T, p string) syscall.Stat_t {
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(fx.root, p), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStepWritesRunsActionsOnceThenNothing(t *testing.T) {
	fx := newFixture(t)
	desc, res, err := fx.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fx.read(t, "/etc/nginx/upstream.conf"), "server 10.0.2.1:8080;") {
		t.Errorf("nginx = %q", fx.read(t, "/etc/nginx/upstream.conf"))
	}
	if st := fx.stat(t, "/etc/haproxy/backend.cfg"); st.Mode&0o777 != 0o640 {
		t.Errorf("haproxy mode %o", st.Mode&0o777)
	}
	// nginx twice (deduplicated), app restarted, haproxy reloaded.
	if d := cmp.Diff([]string{"reload nginx.service", "reload haproxy.service", "restart app.service"}, fx.units.take()); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	for _, want := range []string{"--- /dev/null", "+++ /etc/nginx/upstream.conf (planned)", "would reload nginx.service", "would restart app.service"} {
		if !strings.Contains(desc, want) {
			t.Errorf("plan lacks %q:\n%s", want, desc)
		}
	}
	if len(res.Changed) != 6 {
		t.Errorf("changed = %q", res.Changed)
	}

	before := fx.stat(t, "/etc/nginx/upstream.conf")
	stBefore := fx.stat(t, "/var/lib/ec2boot/render.json")
	desc, res, err = fx.run(t)
	if err != nil || desc != "" || len(res.Changed) != 0 {
		t.Fatalf("second run: %q %+v %v", desc, res, err)
	}
	if calls := fx.units.take(); len(calls) != 0 {
		t.Errorf("no-change run acted: %v", calls)
	}
	if after := fx.stat(t, "/etc/nginx/upstream.conf"); after.Ino != before.Ino || after.Mtim != before.Mtim {
		t.Errorf("no-change run rewrote a file")
	}
	if after := fx.stat(t, "/var/lib/ec2boot/render.json"); after.Mtim != stBefore.Mtim {
		t.Errorf("no-change run rewrote the render state")
	}

	// A peer moves: only the files that depend on it change.
	fx.dns["web-1.example.test"] = "10.0.2.9"
	haproxyBefore := fx.stat(t, "/etc/haproxy/backend.cfg")
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if after := fx.stat(t, "/etc/haproxy/backend.cfg"); after.Ino != haproxyBefore.Ino || after.Mtim != haproxyBefore.Mtim {
		t.Errorf("haproxy backend (app role) rewritten for a web change")
	}
	if d := cmp.Diff([]string{"reload nginx.service", "restart app.service"}, fx.units.take()); d != "" {
		t.Errorf("actions after a web move (-want +got):\n%s", d)
	}
}

func TestStepFailedActionRetriedNextRun(t *testing.T) {
	fx := newFixture(t)
	fx.units.fail["haproxy.service"] = true
	_, _, err := fx.run(t)
	if err == nil || !strings.Contains(err.Error(), "reload haproxy.service failed (retried on the next run)") {
		t.Fatalf("err = %v", err)
	}
	fx.units.take()
	// Nothing changes on disk, but the failed reload is tried again.
	desc, _, err := fx.run(t)
	if err == nil || !strings.Contains(desc, "would reload haproxy.service (retry") {
		t.Fatalf("second run: err=%v plan:\n%s", err, desc)
	}
	if d := cmp.Diff([]string{"reload haproxy.service"}, fx.units.take()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	fx.units.fail["haproxy.service"] = false
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"reload haproxy.service"}, fx.units.take()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, _, err := fx.run(t); err != nil || len(fx.units.take()) != 0 {
		t.Errorf("the successful retry must clear it: %v", err)
	}
}

// TestStepInterruptedBeforeActions: a run that dies after the rename and
// before the reload leaves the intent in state; the next run reloads.
func TestStepInterruptedBeforeActions(t *testing.T) {
	fx := newFixture(t)
	fx.cfg.Templates = fx.cfg.Templates[:1]
	p, err := fx.step().Plan(context.Background(), fx.env(t, false))
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*plan)
	// Simulate the death: intent saved and file written, no actions.
	if err := pl.savePending(pending{Actions: pl.actions}); err != nil {
		t.Fatal(err)
	}
	if _, err := pl.write(context.Background(), pl.files[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"reload nginx.service"}, fx.units.take()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestStepTemplateErrorKeepsOldFile(t *testing.T) {
	fx := newFixture(t)
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	fx.units.take()
	os.WriteFile(filepath.Join(fx.root, "etc/ec2boot/nginx-upstream.conf.tmpl"), []byte("upstream {\n  {{ .Vars.missing }}\n}\n"), 0o644)
	fx.dns["web-1.example.test"] = "10.0.2.9"
	old := fx.read(t, "/etc/nginx/upstream.conf")
	desc, _, err := fx.run(t)
	if err == nil || !strings.Contains(err.Error(), "nginx-upstream.conf.tmpl:2:") || !strings.Contains(err.Error(), `map has no entry for key "missing"`) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(desc, "cannot render, the file is kept") {
		t.Errorf("plan:\n%s", desc)
	}
	if fx.read(t, "/etc/nginx/upstream.conf") != old {
		t.Errorf("old file not kept")
	}
	// The env file still follows the peer, and its actions run.
	if !strings.Contains(fx.read(t, "/etc/app/peers.env"), "10.0.2.9") {
		t.Errorf("other templates not rendered")
	}
	if d := cmp.Diff([]string{"reload nginx.service", "restart app.service"}, fx.units.take()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestStepCheckCommandRefusal(t *testing.T) {
	fx := newFixture(t)
	fx.cfg.Templates = fx.cfg.Templates[:1]
	fx.cfg.Templates[0].Check = []string{"grep", "-q", "10.0.2.1", StagedArg}
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	fx.units.take()
	fx.dns["web-1.example.test"] = "10.0.2.9" // the check now refuses
	old := fx.stat(t, "/etc/nginx/upstream.conf")
	_, _, err := fx.run(t)
	if err == nil || !strings.Contains(err.Error(), "check refused the new content") || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("err = %v", err)
	}
	if now := fx.stat(t, "/etc/nginx/upstream.conf"); now.Ino != old.Ino || now.Mtim != old.Mtim {
		t.Errorf("refused file replaced")
	}
	if calls := fx.units.take(); len(calls) != 0 {
		t.Errorf("actions ran for a refused file: %v", calls)
	}
	ents, _ := os.ReadDir(filepath.Join(fx.root, "etc/nginx"))
	if len(ents) != 1 {
		t.Errorf("staged file left behind: %v", ents)
	}
}

func TestStepRefusedPeersWriteNothing(t *testing.T) {
	fx := newFixture(t)
	delete(fx.dns, "web-1.example.test")
	_, _, err := fx.run(t)
	if err == nil || !strings.Contains(err.Error(), "role web would be empty") {
		t.Fatalf("err = %v", err)
	}
	if _, e := os.Stat(filepath.Join(fx.root, "etc/nginx/upstream.conf")); e == nil {
		t.Errorf("wrote a file from a refused peer set")
	}
}

func TestStepPlanChangesNothing(t *testing.T) {
	fx := newFixture(t)
	p, err := fx.step().Plan(context.Background(), fx.env(t, true))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p.Describe(&b)
	if !strings.Contains(b.String(), "+upstream web {") {
		t.Errorf("plan:\n%s", b.String())
	}
	if _, err := os.Stat(filepath.Join(fx.root, "etc/nginx/upstream.conf")); err == nil {
		t.Errorf("plan wrote a file")
	}
	if _, err := os.Stat(filepath.Join(fx.root, "var/lib/ec2boot")); err == nil {
		t.Errorf("plan created state")
	}
	if len(fx.units.take()) != 0 {
		t.Errorf("plan acted")
	}
}

func TestStepOwnerGroupFromRootAccounts(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "needs root: chown")
	}
	fx := newFixture(t)
	os.WriteFile(filepath.Join(fx.root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nwww:x:1234:1234::/:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(fx.root, "etc/group"), []byte("root:x:0:\nwww:x:2345:\n"), 0o644)
	fx.cfg.Templates = fx.cfg.Templates[:1]
	fx.cfg.Templates[0].Owner, fx.cfg.Templates[0].Group = "www", "www"
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if st := fx.stat(t, "/etc/nginx/upstream.conf"); st.Uid != 1234 || st.Gid != 2345 {
		t.Errorf("owner %d:%d", st.Uid, st.Gid)
	}
	fx.cfg.Templates[0].Owner = "nobody-here"
	if _, _, err := fx.run(t); err == nil || !strings.Contains(err.Error(), `no user "nobody-here" in /etc/passwd`) {
		t.Errorf("err = %v", err)
	}
}

func TestDedupe(t *testing.T) {
	in := []Action{
		{Kind: "reload", Unit: "a"}, {Kind: "command", Argv: []string{"x", "y"}}, {Kind: "reload", Unit: "a"},
		{Kind: "reload", Unit: "b"}, {Kind: "restart", Unit: "b"}, {Kind: "command", Argv: []string{"x", "y"}},
		{Kind: "command", Argv: []string{"x y"}},
	}
	want := []Action{{Kind: "reload", Unit: "a"}, {Kind: "command", Argv: []string{"x", "y"}}, {Kind: "restart", Unit: "b"}, {Kind: "command", Argv: []string{"x y"}}}
	if d := cmp.Diff(want, dedupe(in)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestStepModeDriftRepairedWithoutActions(t *testing.T) {
	fx := newFixture(t)
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	fx.units.take()
	p := filepath.Join(fx.root, "etc/haproxy/backend.cfg")
	os.Chmod(p, 0o666)
	before := fx.stat(t, "/etc/haproxy/backend.cfg")
	desc, res, err := fx.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, "mode 0666 -> 0640") {
		t.Errorf("plan:\n%s", desc)
	}
	after := fx.stat(t, "/etc/haproxy/backend.cfg")
	if after.Mode&0o777 != 0o640 || after.Ino != before.Ino || after.Mtim != before.Mtim {
		t.Errorf("mode drift not repaired in place: %o", after.Mode&0o777)
	}
	if calls := fx.units.take(); len(calls) != 0 || len(res.Changed) != 1 {
		t.Errorf("actions %v, changed %q", calls, res.Changed)
	}
}

func TestStepCreatesMissingDestinationDirectory(t *testing.T) {
	fx := newFixture(t)
	fx.cfg.Templates[0].Destination = "/etc/nginx/conf.d/sites/upstream.conf"
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fx.read(t, "/etc/nginx/conf.d/sites/upstream.conf"), "upstream web") {
		t.Fatal("template not written into a new directory")
	}
	st := fx.stat(t, "/etc/nginx/conf.d")
	if st.Mode&0o777 != 0o755 {
		t.Errorf("new directory mode %o, want 755", st.Mode&0o777)
	}
}

// A relative source is the operator's under /etc/ec2boot first, then the
// package's example under /usr/share/ec2boot/templates.
func TestStepRelativeSourceFallsBackToShippedTemplates(t *testing.T) {
	fx := newFixture(t)
	shipped := filepath.Join(fx.root, "usr/share/ec2boot/templates")
	os.MkdirAll(shipped, 0o755)
	os.WriteFile(filepath.Join(shipped, "only-shipped.tmpl"), []byte("shipped {{ .Facts.InstanceID }}\n"), 0o644)
	os.WriteFile(filepath.Join(shipped, "nginx-upstream.conf.tmpl"), []byte("the package's copy\n"), 0o644)
	fx.cfg.Templates = append(fx.cfg.Templates[:1], config.Template{Source: "only-shipped.tmpl", Destination: "/etc/app/shipped"})
	fx.cfg.Templates[1].Timeout.Duration = 10 * time.Second
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if got := fx.read(t, "/etc/app/shipped"); got != "shipped i-0123\n" {
		t.Errorf("shipped template rendered %q", got)
	}
	if got := fx.read(t, "/etc/nginx/upstream.conf"); !strings.Contains(got, "upstream web") {
		t.Errorf("the operator's template under /etc/ec2boot lost to the shipped one: %q", got)
	}
	fx.cfg.Templates = []config.Template{{Source: "missing.tmpl", Destination: "/etc/app/missing", Timeout: fx.cfg.Templates[0].Timeout}}
	_, _, err := fx.run(t)
	if err == nil || !strings.Contains(err.Error(), "/etc/ec2boot/missing.tmpl or /usr/share/ec2boot/templates/missing.tmpl") {
		t.Errorf("missing template error = %v", err)
	}
}

// TestStepSignalBeforeApplyWritesAndQueuesNothing: a run interrupted
// between plan and apply writes no file, queues no action and records
// nothing; the next run does it all once.
func TestStepSignalBeforeApplyWritesAndQueuesNothing(t *testing.T) {
	fx := newFixture(t)
	p, err := fx.step().Plan(context.Background(), fx.env(t, false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := p.Apply(ctx)
	if !errors.Is(err, context.Canceled) || len(res.Changed) != 0 {
		t.Fatalf("interrupted apply: %+v, %v; want nothing changed and an error wrapping context.Canceled", res, err)
	}
	for _, f := range []string{"etc/nginx/upstream.conf", "etc/haproxy/backend.cfg", "etc/app/peers.env", "var/lib/ec2boot/render.json"} {
		if _, err := os.Stat(filepath.Join(fx.root, f)); err == nil {
			t.Errorf("%s written after the interruption", f)
		}
	}
	if calls := fx.units.take(); len(calls) != 0 {
		t.Errorf("actions after the interruption: %v", calls)
	}
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"reload nginx.service", "reload haproxy.service", "restart app.service"}, fx.units.take()); d != "" {
		t.Errorf("the next run's actions (-want +got):\n%s", d)
	}
}

// TestStepSignalDuringActions: an interruption while the actions run stops
// the rest; they are left pending (not failed) and the next run does
// exactly those.
func TestStepSignalDuringActions(t *testing.T) {
	fx := newFixture(t)
	p, err := fx.step().Plan(context.Background(), fx.env(t, false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fx.units.onCall = func(call string) {
		if call == "reload nginx.service" {
			cancel()
		}
	}
	_, err = p.Apply(ctx)
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "failed") {
		t.Fatalf("interrupted actions: %v; want an interruption, not a failure", err)
	}
	if d := cmp.Diff([]string{"reload nginx.service"}, fx.units.take()); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	fx.units.onCall = nil
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"reload haproxy.service", "restart app.service"}, fx.units.take()); d != "" {
		t.Errorf("the next run's actions (-want +got):\n%s", d)
	}
	if _, _, err := fx.run(t); err != nil || len(fx.units.take()) != 0 {
		t.Errorf("a third run still acts: %v", err)
	}
}
