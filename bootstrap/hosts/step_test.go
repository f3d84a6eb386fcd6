package hosts

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

type mapResolver map[string]string

func (m mapResolver) Lookup(_ context.Context, name string) ([]netip.Addr, error) {
	if a, ok := m[name]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, peers.ErrNoAddress
}

// testEnv is a run's env with the peer source its hosts step is given.
type testEnv struct {
	*step.Env
	peers PeerSource
}

func newEnv(t *testing.T, root string, res peers.Resolver) *testEnv {
	t.Helper()
	cfg := config.Default()
	cfg.Peers.Roles = map[string][]string{"db": {"db-1.example.test"}}
	store, err := state.Open(filepath.Join(root, "var/lib/ec2boot"), "i-0123", false)
	if err != nil {
		t.Fatal(err)
	}
	env := &step.Env{
		Root: hostfs.Root(root), Config: cfg, State: store, Log: logging.Discard(),
		Clock: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)),
		Facts: &facts.Facts{InstanceID: "i-0123", LocalIPv4: netip.MustParseAddr("10.0.0.9"), LocalHostname: "ip-10-0-0-9.ec2.internal"},
	}
	lazy := peers.Lazy(peers.Input{Config: cfg, Facts: env.Facts, State: store, Clock: env.Clock, Resolver: res})
	return &testEnv{Env: env, peers: func(ctx context.Context, _ *step.Env) (*peers.Set, error) { return lazy(ctx) }}
}

func planApply(t *testing.T, env *testEnv) (string, step.Result, error) {
	t.Helper()
	p, err := New(env.peers).Plan(context.Background(), env.Env)
	if err != nil {
		return "", step.Result{}, err
	}
	var b bytes.Buffer
	p.Describe(&b)
	res, err := p.Apply(context.Background())
	return b.String(), res, err
}

func stat(t *testing.T, p string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStepCreatesThenNoChange(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	res := mapResolver{"db-1.example.test": "10.0.1.1"}
	desc, r, err := planApply(t, newEnv(t, root, res))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, "--- /dev/null") || !strings.Contains(desc, "+10.0.1.1\tdb-1.example.test") {
		t.Errorf("plan does not show the new file:\n%s", desc)
	}
	if len(r.Changed) != 1 {
		t.Errorf("changed = %q", r.Changed)
	}
	hostsPath := filepath.Join(root, "etc/hosts")
	b, _ := os.ReadFile(hostsPath)
	if !strings.Contains(string(b), "10.0.0.9\tip-10-0-0-9.ec2.internal\n10.0.1.1\tdb-1.example.test\n") {
		t.Errorf("hosts = %q", b)
	}
	if st := stat(t, hostsPath); st.Mode&0o777 != 0o644 {
		t.Errorf("new file mode %o", st.Mode&0o777)
	}
	before := stat(t, hostsPath)
	stateBefore := stat(t, filepath.Join(root, "var/lib/ec2boot/peers.json"))
	desc, r, err = planApply(t, newEnv(t, root, res))
	if err != nil || desc != "" || len(r.Changed)+len(r.Degraded) != 0 {
		t.Fatalf("second run: %q %+v %v", desc, r, err)
	}
	after := stat(t, hostsPath)
	if after.Ino != before.Ino || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		t.Errorf("no-change run touched /etc/hosts")
	}
	if st := stat(t, filepath.Join(root, "var/lib/ec2boot/peers.json")); st.Mtim != stateBefore.Mtim {
		t.Errorf("no-change run rewrote the peers state")
	}
}

func TestStepRefusesToEmptyARole(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	hostsPath := filepath.Join(root, "etc/hosts")
	os.WriteFile(hostsPath, []byte("127.0.0.1 localhost\n"), 0o644)
	desc, _, err := planApply(t, newEnv(t, root, mapResolver{}))
	if err == nil || !strings.Contains(err.Error(), "role db would be empty") || !strings.Contains(err.Error(), "db-1.example.test") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(desc, "REFUSED") || !strings.Contains(desc, "missing peer db-1.example.test") {
		t.Errorf("plan does not say why:\n%s", desc)
	}
	if b, _ := os.ReadFile(hostsPath); string(b) != "127.0.0.1 localhost\n" {
		t.Errorf("file changed: %q", b)
	}
}

func TestStepStalePeerKeptAndDegraded(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	if _, _, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"})); err != nil {
		t.Fatal(err)
	}
	desc, r, err := planApply(t, newEnv(t, root, mapResolver{}))
	if err != nil {
		t.Fatal(err)
	}
	if desc == "" || !strings.Contains(desc, "stale peer db-1.example.test") || len(r.Degraded) == 0 {
		t.Errorf("stale peer not reported: %q %+v", desc, r)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hosts")); !strings.Contains(string(b), "10.0.1.1\tdb-1.example.test") {
		t.Errorf("stale peer dropped: %q", b)
	}
}

func TestStepMalformedMarkersLeaveFileUntouched(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	hostsPath := filepath.Join(root, "etc/hosts")
	in := "# BEGIN ec2boot\n127.0.0.1 localhost\n"
	os.WriteFile(hostsPath, []byte(in), 0o644)
	before := stat(t, hostsPath)
	_, _, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"}))
	if err == nil || !strings.Contains(err.Error(), "line 1: BEGIN ec2boot without END") || !strings.Contains(err.Error(), "/etc/hosts") {
		t.Fatalf("err = %v", err)
	}
	if after := stat(t, hostsPath); after.Ino != before.Ino || after.Mtim != before.Mtim {
		t.Errorf("file touched")
	}
}

func TestStepDirectoryInPlaceOfFile(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/hosts"), 0o755)
	_, _, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"}))
	if err == nil || !strings.Contains(err.Error(), "/etc/hosts") {
		t.Fatalf("err = %v", err)
	}
}

func TestCloudInitWarnings(t *testing.T) {
	tests := []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{}, ""},
		{map[string]string{"cloud.cfg": "manage_etc_hosts: true\n"}, `"true" (/etc/cloud/cloud.cfg)`},
		{map[string]string{"cloud.cfg": "manage_etc_hosts: true\n", "cloud.cfg.d/99-off.cfg": "# keep\nmanage_etc_hosts: false\n"}, ""},
		{map[string]string{"cloud.cfg": "users: [default]\n", "cloud.cfg.d/10-x.cfg": "manage_etc_hosts: 'localhost' # comment\n"}, `"localhost" (/etc/cloud/cloud.cfg.d/10-x.cfg)`},
		{map[string]string{"cloud.cfg": "system_info:\n  manage_etc_hosts: true\n"}, ""}, // not top level
		{map[string]string{"cloud.cfg": "manage_etc_hosts: true\n", "cloud-init.disabled": ""}, ""},
		{map[string]string{"cloud.cfg": "manage_etc_hosts: yes\n"}, `"yes" (/etc/cloud/cloud.cfg)`},
		{map[string]string{"cloud.cfg": "manage_etc_hosts: 0x1\n"}, `"0x1" (/etc/cloud/cloud.cfg)`},
		{map[string]string{"cloud.cfg": "manage_etc_hosts: 1.0\n"}, ""},
		// cloud-init ignores a file it cannot read, manage_etc_hosts with it.
		{map[string]string{"cloud.cfg": "manage_etc_hosts: true\n", "cloud.cfg.d/50-x.cfg": "manage_etc_hosts: false\nx: [\n"},
			"cloud-init config /etc/cloud/cloud.cfg.d/50-x.cfg is not YAML cloud-init can read"},
		{map[string]string{"cloud.cfg": "manage_etc_hosts: true\n", "cloud.cfg.d/50-x.cfg": "manage_etc_hosts: false\nx: [\n"},
			`"true" (/etc/cloud/cloud.cfg)`},
	}
	for i, tc := range tests {
		root := t.TempDir()
		for name, content := range tc.files {
			p := filepath.Join(root, "etc/cloud", name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(content), 0o644)
		}
		got := strings.Join(CloudInitWarnings(hostfs.Root(root)), "\n")
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("case %d: %q, want containing %q", i, got, tc.want)
		}
	}
}

func TestStepPlanShowsCloudInitAndWritesNothing(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/cloud"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/cloud/cloud.cfg"), []byte("manage_etc_hosts: true\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	env := newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"})
	env.DryRun = true
	p, err := New(env.peers).Plan(context.Background(), env.Env)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p.Describe(&b)
	if !strings.Contains(b.String(), "cloud-init manage_etc_hosts") || !strings.Contains(b.String(), "+# BEGIN ec2boot") {
		t.Errorf("plan:\n%s", b.String())
	}
	if got, _ := os.ReadFile(filepath.Join(root, "etc/hosts")); string(got) != "127.0.0.1 localhost\n" {
		t.Errorf("plan wrote the file")
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/ec2boot/peers.json")); err == nil {
		t.Errorf("plan wrote state")
	}
}

// TestStepEditBetweenPlanAndApply: an edit made by someone else after the
// plan read the file is not lost: Apply notices, re-reads and merges once.
func TestStepEditBetweenPlanAndApply(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	hostsPath := filepath.Join(root, "etc/hosts")
	os.WriteFile(hostsPath, []byte("127.0.0.1 localhost\n"), 0o644)
	env := newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"})
	p, err := New(env.peers).Plan(context.Background(), env.Env)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(hostsPath+".new", []byte("127.0.0.1 localhost\n10.5.5.5 added-by-admin\n"), 0o644)
	os.Rename(hostsPath+".new", hostsPath)
	if _, err := p.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(hostsPath)
	if !strings.HasPrefix(string(b), "127.0.0.1 localhost\n10.5.5.5 added-by-admin\n# BEGIN ec2boot") || !strings.Contains(string(b), "10.0.1.1\tdb-1.example.test") {
		t.Errorf("hosts = %q", b)
	}
}

func TestBuildBodyRejectsShadowingAndBadNames(t *testing.T) {
	set := &peers.Set{
		Self: []peers.Host{{Name: "evil host#x", Addrs: addrs("10.0.0.9")}},
		Roles: map[string][]peers.Host{"r": {
			{Name: "instance-data.ec2.internal", Addrs: addrs("10.0.0.1")},
			{Name: "imds-alias.example.test", Addrs: addrs("169.254.169.254", "10.0.0.2")},
			{Name: "v6.example.test", Addrs: addrs("fd00:ec2::254")},
			{Name: "ok.example.test", Addrs: addrs("10.0.0.3")},
		}},
	}
	body, rejected := BuildBody(set, true)
	want := []string{bodyNotice, "10.0.0.2\timds-alias.example.test", "10.0.0.3\tok.example.test"}
	if strings.Join(body, "\n") != strings.Join(want, "\n") {
		t.Errorf("body = %q", body)
	}
	if len(rejected) != 4 {
		t.Fatalf("rejected = %q", rejected)
	}
	for i, w := range []string{`"evil host#x" is not a valid host name`, "instance-data.ec2.internal would shadow", "169.254.169.254: reserved", "fd00:ec2::254: reserved"} {
		if !strings.Contains(rejected[i], w) {
			t.Errorf("rejected[%d] = %q, want %q", i, rejected[i], w)
		}
	}
}

// TestStepFallsBackToTheBlockWhenStateIsLost: with the state directory
// gone and DNS failing, the addresses in the current block are kept.
func TestStepFallsBackToTheBlockWhenStateIsLost(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	if _, _, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"})); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(root, "var/lib/ec2boot"))
	env := newEnv(t, root, mapResolver{})
	env.peers = SharedPeers() // the run's source, with the block as fallback
	env.Config.Peers.Timeout.Duration = 100 * time.Millisecond
	env.Config.Peers.Nameserver = "127.0.0.1:9" // discard port: no answer
	desc, res, err := planApply(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, "stale peer db-1.example.test (role db): kept at 10.0.1.1") || len(res.Degraded) != 1 {
		t.Errorf("plan:\n%s\n%+v", desc, res)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/hosts")); !strings.Contains(string(b), "10.0.1.1\tdb-1.example.test") {
		t.Errorf("peer dropped: %q", b)
	}
}

// TestSharedPeersResolveOncePerRun: the source the run gives hosts and
// render returns one set for one run's env, and a new one for the next run.
func TestSharedPeersResolveOncePerRun(t *testing.T) {
	root := t.TempDir()
	src := SharedPeers()
	env := newEnv(t, root, mapResolver{}).Env
	env.Config.Peers.Roles = nil // nothing to resolve: no DNS query
	a, err := src(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := src(context.Background(), env)
	if a != b {
		t.Errorf("two resolutions for one run")
	}
	// Each step of a run gets its own copy of the env: still one run.
	stepCopy := *env
	if c, _ := src(context.Background(), &stepCopy); c != a {
		t.Errorf("a step's copy of the run's env resolved again")
	}
	// The next run loads its configuration anew.
	next := *env
	cfg := *env.Config
	next.Config = &cfg
	c, _ := src(context.Background(), &next)
	if c == a {
		t.Errorf("the next run got the previous run's set")
	}
}

type bigResolver struct{ n int }

func (r bigResolver) Lookup(_ context.Context, name string) ([]netip.Addr, error) {
	out := make([]netip.Addr, r.n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{10, 1, byte(i / 256), byte(i % 256)})
	}
	return out, nil
}

// A DNS answer of 4,000 A records used to become a 4,004-line block.
func TestStepBoundsAddressesPerPeer(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	if _, _, err := planApply(t, newEnv(t, root, bigResolver{n: 4000})); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "db-1.example.test"); n != config.DefaultMaxPeerAddresses {
		t.Errorf("db-1 has %d lines in the hosts file, want %d", n, config.DefaultMaxPeerAddresses)
	}
}
