// Package netns runs one test inside a fresh network namespace, where it
// may use any address — the metadata service's 169.254.169.254 or
// [fd00:ec2::254] included — without touching the machine's own network.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// Env marks the re-executed test process that runs inside the
// network namespace; its value is the namespace's name.
const Env = "EC2BOOT_TEST_NETNS"

// Reexec runs the calling test again inside a fresh network namespace and
// reports whether the caller is that inner run. A test starts with
//
//	if !netns.Reexec(t, setup...) { return }
//
// The outer run (root only; it skips otherwise) creates the namespace,
// brings lo up, runs each setup command as `ip -n NS <args…>`, re-executes
// the test binary for this one test inside the namespace, reports its
// output, fails when it fails, and deletes the namespace. The inner run
// may use any address there, including 169.254.169.254, without touching
// the machine's own network.
func Reexec(t *testing.T, setup ...[]string) bool {
	t.Helper()
	if os.Getenv(Env) != "" {
		return true
	}
	testenv.Root(t, "creates a network namespace")
	ip := testenv.Tool(t, "ip", "apt-get install iproute2 (creates the test's network namespace)")
	ns := fmt.Sprintf("ec2boot-test-%d-%s", os.Getpid(), randomSuffix())
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	for _, args := range append([][]string{{"link", "set", "lo", "up"}}, setup...) {
		full := append([]string{"-n", ns}, args...)
		if out, err := exec.Command(ip, full...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(full, " "), err, out)
		}
	}
	// The test binary by its real path: /proc/self/exe would name ip
	// itself once ip executes it.
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	cmd := exec.Command(ip, "netns", "exec", ns, self, "-test.run="+runPattern(t.Name()), "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), Env+"="+ns)
	out, err := cmd.CombinedOutput()
	t.Logf("inside network namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("test inside network namespace %s failed: %v", ns, err)
	}
	if strings.Contains(string(out), "no tests to run") {
		t.Fatalf("test inside network namespace %s did not run (pattern %q)", ns, runPattern(t.Name()))
	}
	return false
}

// runPattern selects exactly one (sub)test.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
