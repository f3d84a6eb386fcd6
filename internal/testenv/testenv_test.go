package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const childEnv = "EC2BOOT_TESTENV_CHILD"

// TestChild is not a test: run by TestMissingFailsUnderCI with childEnv
// set, it asks for a tool that does not exist.
func TestChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		return
	}
	Tool(t, "ec2boot-no-such-tool", "nothing installs it")
	t.Error("Tool returned for a missing tool")
}

func TestMissingFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		want     string
		wantFail bool
	}{
		{"true", "--- FAIL: TestChild", true},
		{"", "--- SKIP: TestChild", false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.want) ||
			!strings.Contains(string(out), "ec2boot-no-such-tool not found: nothing installs it") {
			t.Errorf("CI=%q: %v\n%s", tc.ci, err, out)
		}
	}
}

func TestToolFindsOne(t *testing.T) {
	if p := Tool(t, "sh", "a shell"); p == "" {
		t.Error("sh not found")
	}
}

// TestInMountNS: a mount made in the child is there for the child's test
// body and never appears in this process's mount table.
func TestInMountNS(t *testing.T) {
	dir := os.Getenv("EC2BOOT_TESTENV_MOUNTNS_DIR")
	if dir == "" {
		dir = t.TempDir()
		t.Setenv("EC2BOOT_TESTENV_MOUNTNS_DIR", dir)
	}
	if !InMountNS(t) {
		if mounted(t, dir) {
			t.Errorf("the child's tmpfs on %s is seen outside its namespace", dir)
		}
		return
	}
	Mount(t, "tmpfs", dir, "tmpfs", 0, "size=64k")
	if !mounted(t, dir) {
		t.Errorf("tmpfs not mounted on %s in the child", dir)
	}
}

// TestInMountNSChildFailure: a failing test body fails the parent.
func TestInMountNSChildFailure(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInMountNSChildFailure$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "the test in a private mount namespace: exit status 1") {
			t.Errorf("a failing body in the namespace: %v\n%s", err, out)
		}
		return
	}
	if !InMountNS(t) {
		return
	}
	t.Error("the body fails")
}

func mounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
