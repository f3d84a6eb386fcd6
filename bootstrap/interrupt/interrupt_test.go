package interrupt

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/logging"
)

// helperEnv makes the test binary act as a process stuck in a step that
// ignores its context (see TestHelperProcess).
const helperEnv = "EC2BOOT_INTERRUPT_HELPER"

// exitCode is what the helper exits with on the second signal.
const exitCode = 75

// TestHelperProcess is not a test: run with helperEnv set, it wires the
// signals, says "ready", reports the first signal's cancellation on stdout,
// and then hangs as a step stuck in an uninterruptible call would.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		return // only as the child of TestSecondSignalExitsAtOnce
	}
	ctx, stop := Context(context.Background(), logging.Discard(), func() { os.Exit(exitCode) })
	defer stop()
	os.Stdout.WriteString("ready\n")
	<-ctx.Done()
	os.Stdout.WriteString("cancelled: " + context.Cause(ctx).Error() + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("helper said nothing more: %v", lines.Err())
		}
		return lines.Text()
	}
	if got := next(); got != "ready" {
		t.Fatalf("helper: %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "cancelled: interrupted by terminated" {
		t.Fatalf("after the first SIGTERM the helper says %q", got)
	}
	// Still running: the first signal only cancels.
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the first signal ended the process: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitCode {
			t.Errorf("after the second signal: %v, want exit %d", err, exitCode)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second signal did not end the process")
	}
}

func TestCancelledIsNotADeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if Cancelled(ctx) {
		t.Error("a deadline counted as a cancellation")
	}
	c2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if !Cancelled(c2) {
		t.Error("a cancellation not recognised")
	}
}
