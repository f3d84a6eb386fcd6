package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestPathBuildsOnceAndRuns(t *testing.T) {
	b := New("github.com/ec2boot/ec2boot/cmd/ec2boot")
	p := b.Path(t)
	fi, err := os.Stat(p)
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s: %v, mode %v; want an executable", p, err, fi)
	}
	if again := b.Path(t); again != p {
		t.Errorf("second Path = %s, want the first build %s", again, p)
	}
	out, err := exec.Command(p, "--help").CombinedOutput()
	if !strings.Contains(string(out), "ec2boot") {
		t.Errorf("%s --help: %v\n%s", p, err, out)
	}
	b.Remove()
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("after Remove: %v, want the binary gone", err)
	}
}

func TestBuildFailureFailsTheCaller(t *testing.T) {
	b := New("github.com/ec2boot/ec2boot/cmd/no-such-command")
	defer b.Remove()
	ft := &fatalT{TB: t}
	func() {
		defer func() { _ = recover() }()
		b.Path(ft)
	}()
	if !strings.Contains(ft.msg, "go build github.com/ec2boot/ec2boot/cmd/no-such-command") {
		t.Errorf("failure message %q does not name the build", ft.msg)
	}
}

// fatalT records Fatal instead of ending the test.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic("fatal")
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   Result
	}{
		{`echo out; echo err >&2`, Result{0, "out\n", "err\n"}},
		{`echo partial; exit 3`, Result{3, "partial\n", ""}},
	} {
		if got := Run(t, exec.Command("sh", "-c", tc.script)); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.script, got, tc.want)
		}
	}
	ft := &fatalT{TB: t}
	func() {
		defer func() { _ = recover() }()
		Run(ft, exec.Command("/nonexistent/ec2boot-no-such-binary"))
	}()
	if !strings.Contains(ft.msg, "no such file") {
		t.Errorf("a command that cannot start: failure %q, want it named", ft.msg)
	}
}
