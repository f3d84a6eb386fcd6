package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testbin"
	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

// nobody is the unprivileged user the test runs ec2boot and sh as.
const nobody = 65534

// asNobody runs a command as an unprivileged user in a child process.
func asNobody(t *testing.T, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	res := testbin.Run(t, cmd)
	return res.Code, res.Stdout, res.Stderr
}

// openUp lets others into dir and its parents up to the temp directory
// (the test's own directories are 0700).
func openUp(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// The facts and the status are for everyone: a service running as its own
// user sources facts.env, and anyone runs `ec2boot status`. The lock stays
// root's. A run refused for a bad configuration leaves the facts in place.
func TestFactsAndStatusAreReadableByAll(t *testing.T) {
	testenv.Root(t, "runs a child as another user")
	p := startProvider(t)
	root := image(t, p)
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-4"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000004", "local-ipv4": "10.1.0.14", "public-ipv4": "203.0.113.14",
	}})
	// A runtime directory an earlier version made 0700 is opened up.
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "run/ec2boot"), 0o700); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}
	if r := ec2boot(t, append([]string{"run"}, flags...)...); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	modes := map[string]os.FileMode{
		"run/ec2boot":              0o755 | os.ModeDir,
		"run/ec2boot/facts.env":    0o644,
		"run/ec2boot/facts.json":   0o644,
		"run/ec2boot/status.json":  0o644,
		"run/ec2boot/private":      0o700 | os.ModeDir,
		"run/ec2boot/private/lock": 0o600,
	}
	for path, want := range modes {
		fi, err := os.Lstat(filepath.Join(root, path))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
		if !fi.IsDir() {
			if b, _ := os.ReadFile(filepath.Join(root, path)); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the password", path)
			}
		}
	}

	openUp(t, root)
	openUp(t, filepath.Dir(binary(t)))
	env := filepath.Join(root, "run/ec2boot/facts.env")
	code, out, errOut := asNobody(t, "/bin/sh", "-c", `. "$1" && printf '%s %s' "$EC2BOOT_INSTANCE_ID" "$EC2BOOT_LOCAL_IPV4"`, "sh", env)
	if code != 0 || out != "i-0e2e0000000000004 10.1.0.14" {
		t.Errorf("sh as nobody sourcing facts.env: exit %d, %q %s", code, out, errOut)
	}
	code, out, errOut = asNobody(t, binary(t), "status", "--root", root)
	if code != 0 || !strings.Contains(out, "last run: ok") || !strings.Contains(out, "readable by root only") || strings.Contains(out+errOut, secret) {
		t.Errorf("status as nobody: exit %d\n%s\n%s", code, out, errOut)
	}

	// A refused configuration: exit 1, the facts stay as they were.
	before, _ := os.ReadFile(env)
	write(t, root, "etc/ec2boot/bad.toml", "[dns\n")
	if r := ec2boot(t, append([]string{"run", "--config", "/etc/ec2boot/bad.toml"}, flags...)...); r.code != 1 {
		t.Fatalf("run with a bad config: exit %d\n%s", r.code, r.stderr)
	}
	if after, err := os.ReadFile(env); err != nil || !bytes.Equal(before, after) {
		t.Errorf("a refused run changed facts.env (%v):\n%s", err, after)
	}
}
