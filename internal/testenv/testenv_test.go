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
