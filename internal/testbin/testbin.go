// Package testbin builds a command of this module once per test process,
// for black-box tests that run the real binary as the systemd units do.
//
//	var ec2boot = testbin.New("github.com/ec2boot/ec2boot/cmd/ec2boot")
//
//	func TestMain(m *testing.M) { code := m.Run(); ec2boot.Remove(); os.Exit(code) }
//
//	bin := ec2boot.Path(t) // built by the first test that asks
package testbin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// Binary is one command, built at most once.
type Binary struct {
	pkg string

	once sync.Once
	dir  string
	path string
	err  error
}

// New returns the command at the import path pkg, not yet built.
func New(pkg string) *Binary { return &Binary{pkg: pkg} }

// Path builds the command the first time it is asked for and returns the
// binary's path. A failed build fails t, and every later caller with the
// same message.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "ec2boot-testbin-")
		if err != nil {
			b.err = err
			return
		}
		b.dir = dir
		b.path = filepath.Join(dir, path.Base(b.pkg))
		if out, err := exec.Command("go", "build", "-o", b.path, b.pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Remove deletes what Path built; TestMain calls it after the tests ran.
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// Result is what one run of a command printed, and its exit status.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs cmd with its stdout and stderr collected and returns them with
// the exit status. A non-zero exit is a result; not getting to run at all
// fails t.
func Run(t testing.TB, cmd *exec.Cmd) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return Result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}
