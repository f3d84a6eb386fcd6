package render

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/hosts"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// register is what a peer's own agent does at boot: a dyndns2 update.
func register(t *testing.T, dd *dyndns.Server, name, ip string) {
	t.Helper()
	q := url.Values{"hostname": {name}, "myip": {ip}}
	req, _ := http.NewRequest("GET", dd.URL()+"/nic/update?"+q.Encode(), nil)
	req.SetBasicAuth("fleet", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("register %s: HTTP %d", name, resp.StatusCode)
	}
}

// TestEndToEndWithBind: peers registered through the dyndns2 test server
// into BIND are resolved by asking BIND directly, land in /etc/hosts and in
// rendered configs; a redeployed peer shows up on the next run, and only
// the files that depend on it change.
func TestEndToEndWithBind(t *testing.T) {
	srv := bind.Start(t, "example.test")
	dd := &dyndns.Server{Users: map[string]string{"fleet": "s3cret"}, Backend: srv}
	if err := dd.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer dd.Close()
	register(t, dd, "db-1.example.test", "10.0.1.1")
	register(t, dd, "web-1.example.test", "10.0.2.1")
	register(t, dd, "web-2.example.test", "10.0.2.2")

	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/ec2boot"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc/app"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc/nginx"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/ec2boot/db.env.tmpl"), []byte(`DB_HOSTS={{ join "," (addrs (role "db")) }}`+"\n"), 0o644)
	b, _ := os.ReadFile("../../templates/nginx-upstream.conf.tmpl")
	os.WriteFile(filepath.Join(root, "etc/ec2boot/nginx-upstream.conf.tmpl"), b, 0o644)

	cfg := config.Default()
	cfg.Peers.Nameserver = srv.Addr
	cfg.Peers.Roles = map[string][]string{"db": {"db-1.example.test"}, "web": {"web-1.example.test", "web-2.example.test"}}
	cfg.Vars = map[string]any{}
	cfg.Templates = []config.Template{
		{Source: "db.env.tmpl", Destination: "/etc/app/db.env", Restart: []string{"app.service"}},
		{Source: "nginx-upstream.conf.tmpl", Destination: "/etc/nginx/upstream.conf", Reload: []string{"nginx.service"}},
	}
	for i := range cfg.Templates {
		cfg.Templates[i].Timeout.Duration = 10 * time.Second
	}
	units := &fakeUnits{}
	clk := clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC))

	// run is one `ec2boot run` of the two steps, wired as the run wires them.
	run := func() {
		t.Helper()
		store, err := state.Open(filepath.Join(root, "var/lib/ec2boot"), "i-0123", false)
		if err != nil {
			t.Fatal(err)
		}
		env := &step.Env{Root: hostfs.Root(root), Config: cfg, State: store, Log: logging.Discard(), Clock: clk,
			Facts: &facts.Facts{InstanceID: "i-0123", LocalIPv4: netip.MustParseAddr("10.0.0.9"), LocalHostname: "ip-10-0-0-9.ec2.internal"}}
		shared := hosts.SharedPeers()
		for _, s := range []step.Step{hosts.New(shared), NewWithUnits(units, shared)} {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			p, err := s.Plan(ctx, env)
			if err != nil {
				cancel()
				t.Fatalf("%s: %v", s.Name(), err)
			}
			if _, err := p.Apply(ctx); err != nil {
				cancel()
				t.Fatalf("%s: %v", s.Name(), err)
			}
			cancel()
		}
	}
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(root, p)); return string(b) }
	id := func(p string) [3]int64 {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(root, p), &st); err != nil {
			t.Fatal(err)
		}
		return [3]int64{int64(st.Ino), st.Mtim.Nano(), st.Ctim.Nano()}
	}

	run()
	h := read("/etc/hosts")
	for _, want := range []string{"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# BEGIN ec2boot", "10.0.0.9\tip-10-0-0-9.ec2.internal\n", "10.0.1.1\tdb-1.example.test\n", "10.0.2.1\tweb-1.example.test\n", "10.0.2.2\tweb-2.example.test\n"} {
		if !strings.Contains(h, want) {
			t.Errorf("/etc/hosts lacks %q:\n%s", want, h)
		}
	}
	if got := read("/etc/app/db.env"); got != "DB_HOSTS=10.0.1.1\n" {
		t.Errorf("db.env = %q", got)
	}
	if got := read("/etc/nginx/upstream.conf"); !strings.Contains(got, "server 10.0.2.1:8080;\n    server 10.0.2.2:8080;") {
		t.Errorf("upstream.conf = %q", got)
	}
	if d := cmp.Diff([]string{"restart app.service", "reload nginx.service"}, units.take()); d != "" {
		t.Errorf("first run actions (-want +got):\n%s", d)
	}

	// db-1 is redeployed: its agent registers the new address.
	register(t, dd, "db-1.example.test", "10.0.1.99")
	nginxBefore, hostsBefore := id("/etc/nginx/upstream.conf"), id("/etc/hosts")
	run()
	if !strings.Contains(read("/etc/hosts"), "10.0.1.99\tdb-1.example.test\n") || strings.Contains(read("/etc/hosts"), "10.0.1.1\t") {
		t.Errorf("/etc/hosts not updated:\n%s", read("/etc/hosts"))
	}
	if id("/etc/hosts") == hostsBefore {
		t.Errorf("/etc/hosts not rewritten")
	}
	if got := read("/etc/app/db.env"); got != "DB_HOSTS=10.0.1.99\n" {
		t.Errorf("db.env = %q", got)
	}
	if id("/etc/nginx/upstream.conf") != nginxBefore {
		t.Errorf("upstream.conf (web peers only) was rewritten for a db move")
	}
	if d := cmp.Diff([]string{"restart app.service"}, units.take()); d != "" {
		t.Errorf("redeploy actions (-want +got):\n%s", d)
	}

	// Nothing changed: nothing is written, nothing reloaded.
	before := map[string][3]int64{}
	for _, p := range []string{"/etc/hosts", "/etc/app/db.env", "/etc/nginx/upstream.conf", "/var/lib/ec2boot/peers.json"} {
		before[p] = id(p)
	}
	clk.Advance(time.Hour)
	run()
	for p, was := range before {
		if id(p) != was {
			t.Errorf("%s touched on a no-change run", p)
		}
	}
	if calls := units.take(); len(calls) != 0 {
		t.Errorf("no-change run acted: %v", calls)
	}
}
