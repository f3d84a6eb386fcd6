package main

import (
	"encoding/base64"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testbin"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// leakCheck runs ec2boot and fails the test when any of the forbidden
// strings appears on its stdout or stderr.
func leakCheck(t *testing.T, forbidden []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	res := testbin.Run(t, cmd)
	r := result{res.Code, res.Stdout, res.Stderr}
	for _, s := range forbidden {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("ec2boot %v printed %q:\n%s\n%s", args[0], s, r.stdout, r.stderr)
		}
	}
	return r
}

// filesLeak fails the test for any file under root, except the ones the
// test wrote itself (skip), that holds a forbidden string: status, state,
// caches, facts, hosts.
func filesLeak(t *testing.T, root string, forbidden []string, skip ...string) {
	t.Helper()
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel := "/" + strings.TrimPrefix(p, root+"/")
		for _, s := range skip {
			if rel == s {
				return nil
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		n++
		for _, s := range forbidden {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q:\n%s", rel, s, b)
			}
		}
		return nil
	})
	if n == 0 {
		t.Error("no file was written to look into")
	}
}

// A password written into the server URL is refused, and no output, log,
// status or file repeats it.
func TestPasswordInServerURLIsNeverEchoed(t *testing.T) {
	const pw = "url-Pa55word-e2e"
	p := startProvider(t)
	root := image(t, p)
	url := strings.Replace(p.dyn.URL(), "http://", "http://e2e:"+pw+"@", 1)
	cfg, _ := os.ReadFile(filepath.Join(root, "etc/ec2boot/config.toml"))
	write(t, root, "/etc/ec2boot/config.toml", strings.Replace(string(cfg), p.dyn.URL(), url, 1))
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000011", "local-ipv4": "10.1.0.11", "public-ipv4": "203.0.113.11",
	}})
	forbidden := []string{pw}
	flags := []string{"--root", root, "--imds-endpoint", imds.URL}
	for _, format := range []string{"json", "console"} {
		r := leakCheck(t, forbidden, append([]string{"run", "--log-format", format}, flags...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "e2e:REDACTED@127.0.0.1") || !strings.Contains(r.stderr, "credentials in the URL are refused") {
			t.Errorf("run (%s): exit %d\n%s", format, r.code, r.stderr)
		}
	}
	if r := leakCheck(t, forbidden, append([]string{"plan", "--log-format", "json"}, flags...)...); r.code != 1 {
		t.Errorf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := leakCheck(t, forbidden, append([]string{"validate"}, flags...)...); r.code != 1 || !strings.Contains(r.stdout, "e2e:REDACTED@") {
		t.Errorf("validate: exit %d\n%s", r.code, r.stdout)
	}
	leakCheck(t, forbidden, "status", "--root", root)
	leakCheck(t, forbidden, "status", "--json", "--root", root)
	if _, err := os.Stat(filepath.Join(root, "run/ec2boot/status.json")); err != nil {
		t.Errorf("no status file: %v", err)
	}
	filesLeak(t, root, forbidden, "/etc/ec2boot/config.toml", "/etc/ec2boot/e2e.secret")
	if p.dyn.Count() != 0 {
		t.Errorf("%d request(s) sent with a refused configuration", p.dyn.Count())
	}
}

// A provider that echoes the request back: its reply is kept as the
// record's error in status and state, and must not carry the password or
// the Basic credential there, nor to the log.
func TestEchoedCredentialsAreScrubbed(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	basic := base64.StdEncoding.EncodeToString([]byte("e2e:" + secret))
	p.dyn.Script(
		dyndns.Reply{Body: secret + " was your password\n"},
		dyndns.Reply{Body: "Basic " + basic + "\n"},
	)
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000012", "local-ipv4": "10.1.0.11", "public-ipv4": "203.0.113.11",
	}})
	forbidden := []string{secret, basic}
	flags := []string{"--root", root, "--imds-endpoint", imds.URL}
	r := leakCheck(t, forbidden, append([]string{"run", "--log-format", "json"}, flags...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "[redacted]") {
		t.Errorf("run: exit %d\n%s", r.code, r.stderr)
	}
	if p.dyn.Count() != 2 {
		t.Errorf("%d provider request(s), want 2", p.dyn.Count())
	}
	leakCheck(t, forbidden, append([]string{"plan", "--log-format", "console"}, flags...)...)
	st := leakCheck(t, forbidden, "status", "--root", root)
	if !strings.Contains(st.stdout, "[redacted]") {
		t.Errorf("status does not show the scrubbed reply:\n%s", st.stdout)
	}
	leakCheck(t, forbidden, "status", "--json", "--root", root)
	filesLeak(t, root, forbidden, "/etc/ec2boot/e2e.secret")
}

// A FIFO where the password file should be used to hang the run until
// every budget was gone; now the account fails at once with one line.
func TestPasswordFileFIFOFailsAtOnce(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	fifo := filepath.Join(root, "etc/ec2boot/e2e.secret")
	os.Remove(fifo)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000013", "local-ipv4": "10.1.0.11", "public-ipv4": "203.0.113.11",
	}})
	start := time.Now()
	r := leakCheck(t, nil, "run", "--root", root, "--imds-endpoint", imds.URL, "--log-format", "json")
	took := time.Since(start)
	want := "password_file /etc/ec2boot/e2e.secret: not a regular file (a FIFO)"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, want 2 and %q:\n%s", r.code, want, r.stderr)
	}
	// The DNS budget is 30 s; a blocked open would have used all of it.
	if took > 20*time.Second {
		t.Errorf("run took %s", took)
	}
	if p.dyn.Count() != 0 {
		t.Errorf("%d provider request(s)", p.dyn.Count())
	}
}

func TestReadablePasswordFileWarns(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	if err := os.Chmod(filepath.Join(root, "etc/ec2boot/e2e.secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000014", "local-ipv4": "10.1.0.11", "public-ipv4": "203.0.113.11",
	}})
	r := ec2boot(t, "run", "--root", root, "--imds-endpoint", imds.URL, "--log-format", "json")
	want := `"message":"password_file /etc/ec2boot/e2e.secret: mode 0644 lets other users read the password; chmod 0600"`
	if r.code != 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, `"level":"warn","step":"ddns","account":"e2e"`) {
		t.Errorf("exit %d, want a warning %s:\n%s", r.code, want, r.stderr)
	}
}

// A TOML key may be quoted and hold a newline; on the console it stays
// inside its own line.
func TestKeyWithNewlineCannotForgeALogLine(t *testing.T) {
	root := t.TempDir()
	write(t, root, "/etc/ec2boot/config.toml", "[dns]\n\"x\\n12:00:00 INF forged\" = 1\n")
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, NoUserData: true, Values: map[string]string{"instance-id": "i-0e2e0000000000015"}})
	r := ec2boot(t, "run", "--root", root, "--imds-endpoint", imds.URL, "--log-format", "console")
	forged := false
	for _, line := range strings.Split(r.stderr, "\n") {
		forged = forged || strings.HasPrefix(line, "12:00:00")
	}
	if r.code != 1 || forged || !strings.Contains(r.stderr, `dns.x\n12:00:00 INF forged: unknown key`) {
		t.Errorf("exit %d, a forged line or no escaped key:\n%s", r.code, r.stderr)
	}
	v := ec2boot(t, "validate", "--root", root, filepath.Join(root, "etc/ec2boot/config.toml"))
	if lines := strings.Split(strings.TrimSpace(v.stdout), "\n"); v.code != 1 || len(lines) != 2 {
		t.Errorf("validate: exit %d, %d line(s):\n%s", v.code, len(lines), v.stdout)
	}
}

func TestExplicitConfigThatDoesNotExist(t *testing.T) {
	root := t.TempDir()
	write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n")
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, NoUserData: true, Values: map[string]string{"instance-id": "i-0e2e0000000000016"}})
	r := ec2boot(t, "run", "--root", root, "--imds-endpoint", imds.URL, "--log-format", "json", "--config", "/etc/ec2boot/typo.toml")
	if r.code != 1 || strings.Count(r.stderr, "typo.toml") != 1 || !strings.Contains(r.stderr, `"message":"invalid configuration: /etc/ec2boot/typo.toml: no such file (given with --config)"`) {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
	if r := ec2boot(t, "run", "--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"); r.code != 0 {
		t.Errorf("default config missing: exit %d\n%s", r.code, r.stderr)
	}
}
