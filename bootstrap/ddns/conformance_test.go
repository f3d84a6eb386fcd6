package ddns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// wire is the part of a dyndns2 request both clients must agree on.
type wire struct {
	Method     string
	Path       string
	Hostnames  []string
	MyIP       string
	AuthHeader bool
	User       string
	Password   string
	// Params are the query parameters other than hostname and myip.
	Params map[string]string
}

func wireOf(q dyndns.Request) wire {
	w := wire{Method: q.Method, Path: q.Path, Hostnames: q.Hostnames, MyIP: q.MyIP,
		AuthHeader: q.AuthHeader, User: q.User, Password: q.Password, Params: map[string]string{}}
	for k, v := range q.Query {
		if k != "hostname" && k != "myip" {
			w.Params[k] = strings.Join(v, ",")
		}
	}
	return w
}

// TestWireConformanceWithDdclient runs Debian's ddclient (the reference
// dyndns2 client) and ec2boot against the same test server for the same two
// names and address, and compares what they send. The deliberate
// differences (docs/dns.md) are asserted too, so that a change on either
// side shows up here.
func TestWireConformanceWithDdclient(t *testing.T) {
	bin := testenv.Tool(t, "ddclient", "install Debian's ddclient package")
	h := newHarness(t)
	h.records = `
[[dns.records]]
name = "web-a.example.test"
address = "public-ipv4"
account = "main"

[[dns.records]]
name = "web-b.example.test"
address = "public-ipv4"
account = "main"
`
	// ddclient: private config and cache, one run, a fixed address (use=ip;
	// never use=web, which would ask an outside service), plain http to
	// the loopback test server.
	dir := t.TempDir()
	conf := filepath.Join(dir, "ddclient.conf")
	content := fmt.Sprintf(`daemon=0
ssl=no
use=ip, ip=%s
protocol=dyndns2
server=%s
login=%s
password='%s'
web-a.example.test,web-b.example.test
`, publicIP, h.dyn.Addr(), testUser, testPassword)
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-file", conf, "-cache", filepath.Join(dir, "ddclient.cache"),
		"-foreground", "-daemon=0", "-noquiet", "-timeout", "5")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ddclient: %v\n%s", err, out)
	}
	reqs := h.dyn.Requests()
	if len(reqs) != 1 {
		t.Fatalf("ddclient sent %d requests, want 1:\n%s", len(reqs), out)
	}
	ref := reqs[0]
	if !strings.HasPrefix(ref.Answer, "good") {
		t.Fatalf("ddclient's request %q was answered %q", ref.RawQuery, ref.Answer)
	}

	// ec2boot, same names and address, after the test server forgot them
	// (otherwise DNS already agrees and ec2boot rightly sends nothing).
	for _, n := range []string{"web-a.example.test", "web-b.example.test"} {
		if err := h.dns.Update(context.Background(), n, nil); err != nil {
			t.Fatal(err)
		}
	}
	if r := h.run(false); r.err != nil || r.requests != 1 {
		t.Fatalf("ec2boot: err=%v requests=%d", r.err, r.requests)
	}
	ours := h.dyn.Requests()[1]

	// Deliberate differences: ddclient 3.10 sends the legacy system=dyndns
	// (ec2boot sends no system parameter, which providers default), and
	// each client names itself.
	refWire, ourWire := wireOf(ref), wireOf(ours)
	if got := refWire.Params["system"]; got != "dyndns" {
		t.Errorf("ddclient's system parameter = %q; docs/dns.md says dyndns", got)
	}
	delete(refWire.Params, "system")
	if diff := cmp.Diff(refWire, ourWire); diff != "" {
		t.Errorf("wire difference (-ddclient +ec2boot):\n%s", diff)
	}
	if !strings.HasPrefix(ref.UserAgent, "ddclient/") || !strings.HasPrefix(ours.UserAgent, "ec2boot/") {
		t.Errorf("user agents: ddclient %q, ec2boot %q", ref.UserAgent, ours.UserAgent)
	}
	t.Logf("ddclient: %s %s?%s %s UA=%q headers=%v\nec2boot: %s %s?%s %s UA=%q headers=%v", ref.Method, ref.Path, ref.RawQuery, ref.Proto, ref.UserAgent, ref.Header, ours.Method, ours.Path, ours.RawQuery, ours.Proto, ours.UserAgent, ours.Header)
	// Same parameter order too, once ddclient's legacy parameter is gone.
	if want := strings.Replace(ref.RawQuery, "system=dyndns&", "", 1); ours.RawQuery != want {
		t.Errorf("query: ec2boot %q, ddclient without system %q", ours.RawQuery, want)
	}
	if ref.Host != ours.Host {
		t.Errorf("Host header: ddclient %q, ec2boot %q", ref.Host, ours.Host)
	}
}
