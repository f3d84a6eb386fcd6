// Package testenv decides what a test does when something it needs from
// the machine is not there: a test peer (named, cloud-init, PyYAML, AWS's
// metadata emulator), a tool (diff, gzip, ip, systemctl), root, or the
// system tests' rootfs cache. Outside CI the test skips and says what to
// install; under CI (CI set, as .ci/run does) it fails, because CI
// installs every peer and runs as root, so a missing one is a broken CI,
// not a reason to test less.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run under CI.
func CI() bool { return os.Getenv("CI") != "" }

// Missing reports that something the test needs is not there: a failure
// under CI, a skip with the message otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatal(msg + " (CI installs every test peer: this is a failure there)")
	}
	t.Skip(msg)
}

// Root makes sure the test runs as root; why says what needs it.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: %s", why)
	}
}

// sbin are the directories a root-only tool may be in when PATH (a
// user's) lacks them.
var sbin = []string{"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/local/bin"}

// Tool returns the path of an executable found on PATH or in the sbin
// directories; install says how to get it when it is not there.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range sbin {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "%s not found: %s", name, install)
	return ""
}
