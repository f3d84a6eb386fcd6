package lock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests re-run this test binary as the other process. helperEnv selects
// what it does; it reports on stdout, one line per event.
const helperEnv = "EC2BOOT_LOCK_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode, os.Getenv("LOCK_PATH")))
	}
	os.Exit(m.Run())
}

// helper modes:
//
//	hold        take the lock, say "locked", sleep until killed
//	hold-brief  take the lock, say "locked", let go after 200ms and exit
//	spawn       take the lock, start a daemon-like child (new session), say
//	            "locked <child pid>", sleep until killed
//	spawn-leak  like spawn but hands the lock's descriptor to the child, as
//	            a file opened without close-on-exec would be
//	sleep       sleep until killed (the spawned child)
//	section     wait for the lock, append "in <pid>" and "out <pid>" to
//	            LOG_PATH around a short critical section, exit
func helper(mode, path string) int {
	if mode == "sleep" {
		time.Sleep(time.Minute)
		return 0
	}
	wait := 5 * time.Second
	l, err := Acquire(context.Background(), path, wait)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch mode {
	case "hold":
		fmt.Println("locked")
		time.Sleep(time.Minute)
	case "hold-brief":
		fmt.Println("locked")
		time.Sleep(200 * time.Millisecond)
		if err := l.Release(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "spawn", "spawn-leak":
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), helperEnv+"=sleep")
		child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if mode == "spawn-leak" {
			child.ExtraFiles = []*os.File{l.f}
		}
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("locked", child.Process.Pid)
		time.Sleep(time.Minute)
	case "section":
		log, err := os.OpenFile(os.Getenv("LOG_PATH"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return 1
		}
		fmt.Fprintf(log, "in %d\n", os.Getpid())
		time.Sleep(50 * time.Millisecond)
		fmt.Fprintf(log, "out %d\n", os.Getpid())
		log.Close()
		_ = l.Release()
	default:
		return 2
	}
	return 0
}

// startHelper runs the test binary in mode and waits for its "locked" line.
// It returns the process and the rest of that line.
func startHelper(t *testing.T, mode, path string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "LOCK_PATH="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "locked") {
		t.Fatalf("helper %s did not take the lock: %q %v", mode, line, err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "locked"))
}

func killAndReap(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

func TestSecondAcquirerGivesUpAfterWaitNamingHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "ec2boot", "lock")
	holder, _ := startHelper(t, "hold", path)

	const wait = 300 * time.Millisecond
	start := time.Now()
	l, err := Acquire(context.Background(), path, wait)
	elapsed := time.Since(start)
	if err == nil {
		l.Release()
		t.Fatal("acquired a lock another process holds")
	}
	var he *HeldError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v (%T), want *HeldError", err, err)
	}
	want := fmt.Sprintf("another ec2boot run holds the lock (pid %d); waited 300ms", holder.Process.Pid)
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	// The bound is the behaviour under test: it waited, and not forever.
	if elapsed < wait || elapsed > wait+2*time.Second {
		t.Errorf("gave up after %v, want about %v", elapsed, wait)
	}
}

func TestNoWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	startHelper(t, "hold", path)
	_, err := Acquire(context.Background(), path, 0)
	var he *HeldError
	if !errors.As(err, &he) || he.Wait != 0 {
		t.Fatalf("err = %v, want *HeldError with no wait", err)
	}
}

func TestWaiterGetsLockWhenHolderReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	startHelper(t, "hold-brief", path)
	l, err := Acquire(context.Background(), path, 10*time.Second)
	if err != nil {
		t.Fatalf("waiter: %v", err)
	}
	defer l.Release()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file says pid %q, want ours %d", got, os.Getpid())
	}
}

func TestReleasedWhenHolderIsKilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	holder, _ := startHelper(t, "hold", path)
	killAndReap(t, holder)
	l, err := Acquire(context.Background(), path, 2*time.Second)
	if err != nil {
		t.Fatalf("lock of a killed holder not released: %v", err)
	}
	l.Release()
}

// A holder that starts a long-lived child (a reload action whose command
// daemonizes) and then dies must not leave the lock with the child. The
// leaking variant shows the test would notice: handing the descriptor to
// the child keeps the lock held.
func TestChildOfHolderDoesNotKeepLock(t *testing.T) {
	tests := []struct {
		mode     string
		wantHeld bool
	}{
		{"spawn", false},
		{"spawn-leak", true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lock")
			holder, rest := startHelper(t, tt.mode, path)
			childPID, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("child pid %q: %v", rest, err)
			}
			t.Cleanup(func() { _ = syscall.Kill(childPID, syscall.SIGKILL) })
			killAndReap(t, holder)
			if err := syscall.Kill(childPID, 0); err != nil {
				t.Fatalf("child %d is not running, so the test proves nothing: %v", childPID, err)
			}
			l, err := Acquire(context.Background(), path, 300*time.Millisecond)
			var he *HeldError
			held := errors.As(err, &he)
			if err != nil && !held {
				t.Fatal(err)
			}
			if held != tt.wantHeld {
				t.Errorf("lock held after the holder died: %v, want %v (err %v)", held, tt.wantHeld, err)
			}
			l.Release()
		})
	}
}

func TestContextEndsTheWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	startHelper(t, "hold", path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Acquire(ctx, path, time.Minute)
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want *HeldError wrapping the deadline", err)
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	startHelper(t, "hold", path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Wait(ctx, path)
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, context.DeadlineExceeded) || he.PID <= 0 {
		t.Fatalf("err = %v, want *HeldError naming the holder and wrapping the deadline", err)
	}
}

// TestWaitInProcess: two waiters in one process (two applies of a step)
// take the lock one after the other.
func TestWaitInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, err := Wait(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		second, err := Wait(context.Background(), path)
		if err == nil {
			err = second.Release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second waiter returned while the first held the lock: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("second waiter: %v", err)
	}
}

// Three processes that all want the lock run their critical sections one
// after another, never interleaved.
func TestMutualExclusion(t *testing.T) {
	dir := t.TempDir()
	path, logPath := filepath.Join(dir, "lock"), filepath.Join(dir, "log")
	var cmds []*exec.Cmd
	for i := 0; i < 3; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=section", "LOCK_PATH="+path, "LOG_PATH="+logPath)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 6 {
		t.Fatalf("log has %d lines, want 6:\n%s", len(lines), b)
	}
	for i := 0; i < len(lines); i += 2 {
		in, out := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if in[0] != "in" || out[0] != "out" || in[1] != out[1] {
			t.Fatalf("critical sections overlap:\n%s", b)
		}
	}
}

// flock belongs to the open file, so two acquisitions in one process
// exclude each other too, and Release makes the lock available again.
func TestInProcessAndRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	a, err := Acquire(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := Acquire(context.Background(), path, 0); err == nil {
		t.Fatal("second acquisition in the same process succeeded")
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("released lock file still names a pid: %q", b)
	}
	b, err := Acquire(context.Background(), path, 0)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()
}

func TestHeldErrorUnknownPID(t *testing.T) {
	e := &HeldError{Wait: time.Second}
	if got, want := e.Error(), "another ec2boot run holds the lock (pid unknown); waited 1s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
