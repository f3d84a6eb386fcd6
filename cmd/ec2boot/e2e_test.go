package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testbin"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
	"github.com/ec2boot/ec2boot/internal/testpeer/netns"
)

// These tests run the real binary, as the systemd units do, against AWS's
// metadata emulator and the project's dyndns2 provider with its DNS server.

// ec2bootBin is this command's binary, built once for the package.
var ec2bootBin = testbin.New("github.com/ec2boot/ec2boot/cmd/ec2boot")

func binary(t *testing.T) string {
	t.Helper()
	return ec2bootBin.Path(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	ec2bootBin.Remove()
	os.Exit(code)
}

const secret = "e2e-Pa55word"

// provider is the dyndns2 test provider feeding an authoritative DNS server.
type provider struct {
	dyn *dyndns.Server
	dns *authdns.Server
}

func startProvider(t *testing.T) *provider {
	dnsSrv := authdns.New("example.test")
	if err := dnsSrv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dnsSrv.Close() })
	dyn := &dyndns.Server{Users: map[string]string{"e2e": secret}, Backend: dnsSrv}
	if err := dyn.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dyn.Close() })
	if err := dnsSrv.Update(context.Background(), "db-1.example.test", []netip.Addr{netip.MustParseAddr("10.1.0.21")}); err != nil {
		t.Fatal(err)
	}
	return &provider{dyn: dyn, dns: dnsSrv}
}

// image bakes a root: /etc/hosts, the local config pointing at the
// provider, its password file.
func image(t *testing.T, p *provider) string {
	root := t.TempDir()
	write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n# kept\n10.9.9.9\tbackup\n")
	write(t, root, "/etc/ec2boot/e2e.secret", secret+"\n")
	write(t, root, "/etc/ec2boot/config.toml", fmt.Sprintf(`
[imds]
timeout = "3s"

[dns]
check_server = %q

[dns.accounts.e2e]
server = %q
username = "e2e"
password_file = "/etc/ec2boot/e2e.secret"

[peers]
nameserver = %q
`, p.dns.Addr(), p.dyn.URL(), p.dns.Addr()))
	return root
}

// userData is the instance's part, gzip-compressed as many launch tools send it.
func userData(t *testing.T, name string) []byte {
	toml := fmt.Sprintf(`
[[dns.records]]
name = "%[1]s.internal.example.test"
address = "local-ipv4"
account = "e2e"

[[dns.records]]
name = "%[1]s.example.test"
address = "public-ipv4"
account = "e2e"

[peers.roles]
db = ["db-1.example.test"]
`, name)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(toml))
	zw.Close()
	return b.Bytes()
}

func write(t *testing.T, root, path, content string) {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func ec2boot(t *testing.T, args ...string) result {
	t.Helper()
	return ec2bootEnv(t, nil, args...)
}

// ec2bootEnv runs the binary with env added to a bare environment.
func ec2bootEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...) // no AWS_* from the caller
	res := testbin.Run(t, cmd)
	r := result{res.Code, res.Stdout, res.Stderr}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("ec2boot %v printed the password:\n%s\n%s", args, r.stdout, r.stderr)
	}
	return r
}

// snapshot is every file under /etc and /var of a root with its inode and
// modification time: equal snapshots mean nothing was written.
func snapshot(t *testing.T, root string) string {
	var lines []string
	for _, dir := range []string{"etc", "var"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			lines = append(lines, fmt.Sprintf("%s %v %d", p, info.ModTime().UnixNano(), info.Sys().(*syscallStat).Ino))
			return nil
		})
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestBootRunRerunAndMetadataOutage(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000001", "local-ipv4": "10.1.0.11", "public-ipv4": "203.0.113.11",
	}})
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}

	plan := ec2boot(t, append([]string{"plan"}, flags...)...)
	if plan.code != 0 || !strings.Contains(plan.stdout, "hostname=web-1.internal.example.test&myip=10.1.0.11") ||
		!strings.Contains(plan.stdout, "[redacted]") || !strings.Contains(plan.stdout, "+10.1.0.21\tdb-1.example.test") {
		t.Fatalf("plan: exit %d\n%s\n%s", plan.code, plan.stdout, plan.stderr)
	}
	if p.dyn.Count() != 0 {
		t.Fatalf("plan sent %d provider request(s)", p.dyn.Count())
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/ec2boot")); err == nil {
		t.Fatal("plan created the state directory")
	}

	if d := ec2boot(t, append([]string{"plan", "--detailed-exitcode"}, flags...)...); d.code != 2 {
		t.Errorf("plan --detailed-exitcode before the first run: exit %d, want 2 (changes)\n%s", d.code, d.stderr)
	}

	first := ec2boot(t, append([]string{"run"}, flags...)...)
	if first.code != 0 {
		t.Fatalf("run: exit %d\n%s", first.code, first.stderr)
	}
	for name, want := range map[string]string{"web-1.internal.example.test": "10.1.0.11", "web-1.example.test": "203.0.113.11"} {
		got, _ := p.dns.Lookup(context.Background(), name)
		if len(got) != 1 || got[0].String() != want {
			t.Errorf("DNS %s = %v, want %s", name, got, want)
		}
	}
	hosts, _ := os.ReadFile(filepath.Join(root, "etc/hosts"))
	if !strings.HasPrefix(string(hosts), "127.0.0.1\tlocalhost\n# kept\n10.9.9.9\tbackup\n# BEGIN ec2boot") ||
		!strings.Contains(string(hosts), "10.1.0.21\tdb-1.example.test\n") {
		t.Errorf("/etc/hosts:\n%s", hosts)
	}
	env, _ := os.ReadFile(filepath.Join(root, "run/ec2boot/facts.env"))
	if !strings.Contains(string(env), `EC2BOOT_INSTANCE_ID="i-0e2e0000000000001"`) {
		t.Errorf("facts.env:\n%s", env)
	}

	// The timer's common case: nothing changed.
	requests, before := p.dyn.Count(), snapshot(t, root)
	again := ec2boot(t, append([]string{"run"}, flags...)...)
	if again.code != 0 || p.dyn.Count() != requests {
		t.Errorf("no-change run: exit %d, %d provider request(s)", again.code, p.dyn.Count()-requests)
	}
	if after := snapshot(t, root); after != before {
		t.Errorf("no-change run wrote files:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	if d := ec2boot(t, append([]string{"plan", "--detailed-exitcode"}, flags...)...); d.code != 0 {
		t.Errorf("plan --detailed-exitcode after the run: exit %d, want 0 (nothing to do)\n%s", d.code, d.stdout)
	}

	var status struct {
		LastRun struct {
			ExitCode int `json:"exit_code"`
			Steps    []struct{ Name, Status string }
			Disk     []struct {
				Path    string
				Total   uint64 `json:"total_bytes"`
				Percent *int   `json:"used_percent"`
			}
		} `json:"last_run"`
		DNS []struct{ Name, Addr string } `json:"dns"`
	}
	st := ec2boot(t, "status", "--json", "--root", root)
	if err := json.Unmarshal([]byte(st.stdout), &status); err != nil || st.code != 0 || len(status.LastRun.Steps) == 0 || len(status.DNS) != 2 {
		t.Errorf("status: exit %d %v\n%s", st.code, err, st.stdout)
	}
	// Disk usage after every run: in status, status --json and the run's
	// summary line.
	if d := status.LastRun.Disk; len(d) != 1 || d[0].Path != "/" || d[0].Total == 0 || d[0].Percent == nil {
		t.Errorf("status --json: disk = %+v\n%s", d, st.stdout)
	}
	if text := ec2boot(t, "status", "--root", root); !strings.Contains(text.stdout, "disk usage after the run:\n    /: ") {
		t.Errorf("status does not show the disk usage:\n%s", text.stdout)
	}
	if !strings.Contains(again.stderr, `"disk":"/ `) || !strings.Contains(again.stderr, `"message":"nothing to change; disk / `) {
		t.Errorf("the no-change run's summary line lacks the disk usage:\n%s", again.stderr)
	}

	// The metadata service goes away: the run goes on with the cached
	// facts, says so, and exits 3.
	imds.Stop()
	down := ec2boot(t, append([]string{"run"}, flags...)...)
	if down.code != 3 || !strings.Contains(down.stderr, "last known facts") {
		t.Errorf("metadata down: exit %d\n%s", down.code, down.stderr)
	}
	if p.dyn.Count() != requests {
		t.Errorf("metadata down: %d provider request(s)", p.dyn.Count()-requests)
	}

	// plan predicts run's failure: the code run would exit with, or 1
	// with --detailed-exitcode.
	if d := ec2boot(t, append([]string{"plan"}, flags...)...); d.code != 3 {
		t.Errorf("plan with the metadata service down: exit %d, want 3", d.code)
	}
	if d := ec2boot(t, append([]string{"plan", "--detailed-exitcode"}, flags...)...); d.code != 1 {
		t.Errorf("plan --detailed-exitcode with the metadata service down: exit %d, want 1", d.code)
	}

	// facts agrees with run: the cached facts are printed, with a note,
	// and the exit code says they are not fresh.
	disabled := []string{"AWS_EC2_METADATA_DISABLED=true"}
	for _, args := range [][]string{{"run"}, {"facts"}, {"facts", "--json"}} {
		r := ec2bootEnv(t, disabled, append(args, "--root", root, "--log-format", "json")...)
		if r.code != 3 {
			t.Errorf("%v with the metadata service disabled: exit %d, want 3\n%s", args, r.code, r.stderr)
		}
		if args[0] == "facts" && (!strings.Contains(r.stdout, "i-0e2e0000000000001") || !strings.Contains(r.stderr, "last known facts")) {
			t.Errorf("%v: the cached facts or the note are missing:\n%s\n%s", args, r.stdout, r.stderr)
		}
	}
}

func TestInvalidUserDataIsRefusedWithItsLocation(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	bad := []byte("[[dns.records]]\nname = \"x.example.test\"\naddress = \"elastic-ip\"\naccount = \"e2e\"\n")
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: bad, Values: map[string]string{"instance-id": "i-0e2e0000000000002"}})
	before := snapshot(t, root)
	r := ec2boot(t, "run", "--root", root, "--imds-endpoint", imds.URL, "--log-format", "json")
	if r.code != 1 || !strings.Contains(r.stderr, `user-data:3:1: dns.records[0].address: \"elastic-ip\" is not one of`) {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	if snapshot(t, root) != before || p.dyn.Count() != 0 {
		t.Error("a refused configuration changed something")
	}
	v := ec2boot(t, "validate", "--root", root, "--imds-endpoint", imds.URL)
	if v.code != 1 || !strings.Contains(v.stdout, "user-data:3:1: dns.records[0].address") {
		t.Errorf("validate: exit %d\n%s", v.code, v.stdout)
	}
}

func TestNotOnEC2ExitsAtOnce(t *testing.T) {
	root := t.TempDir() // no DMI files: not an EC2 instance
	r := ec2boot(t, "run", "--root", root, "--log-format", "json")
	if r.code != 3 || !strings.Contains(r.stderr, "not running on EC2") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}

// The real address: inside a network namespace of the test's own, the
// emulator serves on 169.254.169.254:80 and ec2boot runs with no endpoint
// override, on a root whose DMI says "Amazon EC2".
func TestDefaultEndpointInNetworkNamespace(t *testing.T) {
	if !netns.Reexec(t, []string{"addr", "add", "169.254.169.254/32", "dev", "lo"}) {
		return
	}
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, Host: "169.254.169.254", Port: 80, NoUserData: true,
		Values: map[string]string{"instance-id": "i-0e2e0000000000003", "local-ipv4": "10.1.0.13"}})
	if imds.URL != "http://169.254.169.254:80" && imds.URL != "http://169.254.169.254" {
		t.Fatalf("emulator at %s", imds.URL)
	}
	root := t.TempDir()
	write(t, root, "/sys/devices/virtual/dmi/id/sys_vendor", "Amazon EC2\n")
	r := ec2boot(t, "facts", "--json", "--root", root)
	var f struct {
		InstanceID string `json:"instance_id"`
		LocalIPv4  string `json:"local_ipv4"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &f); err != nil || r.code != 0 || f.InstanceID != "i-0e2e0000000000003" || f.LocalIPv4 != "10.1.0.13" {
		t.Errorf("facts: exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
}
