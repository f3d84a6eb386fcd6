package ddns

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

const (
	testUser     = "testuser"
	testPassword = "testpass"
	testInstance = "i-0aaaaaaaaaaaaaaa1"
	testVersion  = "1.2.3"
)

var (
	publicIP = netip.MustParseAddr("203.0.113.10")
	localIP  = netip.MustParseAddr("10.200.0.1")
	ipv6IP   = netip.MustParseAddr("2001:db8::10")
	otherIP  = netip.MustParseAddr("198.51.100.7")
)

// harness is one instance with its root directory, the dyndns2 test server
// and an authoritative DNS server fed by it.
type harness struct {
	t          testing.TB
	root       hostfs.Root
	dyn        *dyndns.Server
	dns        *authdns.Server
	clock      *clock.Fake
	facts      *facts.Facts
	instanceID string
	// extraConfig is appended to the [dns] section; records to the end.
	account string
	records string
	dnsKeys string
	backend dyndns.Backend // nil: the authdns server
	check   string         // check_server; default the authdns server
	noCheck bool           // no check_server: find the authoritative servers
	timeout string         // the account's timeout; default 2s
	step    *Step          // default NewStep()
	log     bytes.Buffer
	logw    io.Writer // h.log, safe for concurrent runs
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{
		t:          t,
		root:       hostfs.Root(t.TempDir()),
		clock:      clock.NewFake(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)),
		instanceID: testInstance,
		facts: &facts.Facts{InstanceID: testInstance, LocalIPv4: localIP, PublicIPv4: publicIP,
			IPv6: ipv6IP, Source: "imds"},
	}
	h.logw = zerolog.SyncWriter(&h.log)
	h.dns = authdns.New("example.test")
	if err := h.dns.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.dns.Close() })
	h.dyn = &dyndns.Server{Users: map[string]string{testUser: testPassword}, Backend: h.dns}
	if err := h.dyn.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.dyn.Close() })
	h.writeSecret("main.secret", testPassword)
	h.records = twoRecords
	return h
}

// twoRecords: an external and an internal name, the example.
const twoRecords = `
[[dns.records]]
name = "web.example.test"
address = "public-ipv4"
account = "main"

[[dns.records]]
name = "int.example.test"
address = "local-ipv4"
account = "main"
`

func (h *harness) writeSecret(name, value string) {
	h.t.Helper()
	p := h.root.Path("/etc/ec2boot/" + name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) config() *config.Config {
	h.t.Helper()
	check := h.check
	if check == "" {
		check = h.dns.Addr()
	}
	checkLine := fmt.Sprintf("check_server = %q", check)
	if h.noCheck {
		checkLine = ""
	}
	timeout := h.timeout
	if timeout == "" {
		timeout = "2s"
	}
	src := fmt.Sprintf(`[dns]
%s
%s
[dns.accounts.main]
server = %q
username = %q
password_file = "/etc/ec2boot/main.secret"
timeout = %q
%s
%s`, checkLine, h.dnsKeys, h.dyn.URL(), testUser, timeout, h.account, h.records)
	cfg, ps := config.Load(config.Source{Name: "test.toml", Data: []byte(src)})
	if cfg == nil {
		h.t.Fatalf("config: %v\n%s", ps, src)
	}
	return cfg
}

func (h *harness) env(dryRun, force bool) *step.Env {
	h.t.Helper()
	store, err := state.Open(h.root.Path(state.Dir), h.instanceID, dryRun)
	if err != nil {
		h.t.Fatal(err)
	}
	f := *h.facts
	return &step.Env{Root: h.root, Config: h.config(), Facts: &f, State: store,
		Log: logging.New(h.logw, logging.JSON, true), Clock: h.clock, Force: force, DryRun: dryRun, Version: testVersion}
}

// plan makes a plan as `ec2boot plan` would and returns its description.
func (h *harness) plan() string {
	h.t.Helper()
	p, err := h.newStep().Plan(context.Background(), h.env(true, false))
	if err != nil {
		h.t.Fatal(err)
	}
	var b bytes.Buffer
	p.Describe(&b)
	return b.String()
}

// runResult is what one run of the step did.
type runResult struct {
	res      step.Result
	err      error
	requests int // provider requests, counted by the test server
	queries  int // DNS queries of plan and apply
}

func (h *harness) run(force bool) runResult {
	h.t.Helper()
	before := h.dyn.Count()
	p, err := h.newStep().Plan(context.Background(), h.env(false, force))
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := p.Apply(context.Background())
	n := h.dyn.Count() - before
	if got := p.(*Plan).Requests(); got != n {
		h.t.Errorf("plan counted %d requests, the server saw %d", got, n)
	}
	return runResult{res: res, err: err, requests: n, queries: p.(*Plan).DNSQueries()}
}

// stateFile returns the state file's bytes and modification time.
func (h *harness) stateFile() ([]byte, time.Time) {
	p := filepath.Join(h.root.Path(state.Dir), stateName+".json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, time.Time{}
	}
	st, _ := os.Stat(p)
	return b, st.ModTime()
}

func (h *harness) loadState() *State {
	h.t.Helper()
	store, _ := state.Open(h.root.Path(state.Dir), h.instanceID, true)
	st, _, _, _, err := loadState(store, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) lookup(name string) []netip.Addr {
	h.t.Helper()
	a, err := h.dns.Lookup(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func mustErrContain(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func (h *harness) newStep() *Step {
	if h.step != nil {
		return h.step
	}
	return NewStep()
}
