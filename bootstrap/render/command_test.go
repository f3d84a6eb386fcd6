package render

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/lock"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

func TestRunCommandFailing(t *testing.T) {
	err := RunCommand(context.Background(), []string{"sh", "-c", "echo broken config >&2; exit 3"}, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "broken config") {
		t.Fatalf("err = %v", err)
	}
	err = RunCommand(context.Background(), []string{"/nonexistent/reload"}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/reload") {
		t.Fatalf("err = %v", err)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func readPid(t *testing.T, path string) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

// TestRunCommandHanging: a command that hangs is killed at its timeout
// together with everything it started.
func TestRunCommandHanging(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	err := RunCommand(context.Background(), []string{"sh", "-c", "sleep 600 & echo $! > " + pidFile + "; wait"}, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") || !strings.Contains(err.Error(), "process group was killed") {
		t.Fatalf("err = %v", err)
	}
	pid := readPid(t, pidFile)
	// The grandchild is killed with the group; it may linger as a zombie
	// until reaped by init, so look at its state, not only its existence.
	for i := 0; i < 100 && alive(pid) && !zombie(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) && !zombie(pid) {
		t.Errorf("background child %d survived the timeout", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// TestRunCommandDaemonizing: a reload that leaves a daemon behind returns
// as soon as the command itself exits, and the daemon holds neither our
// output pipe hostage nor the run lock.
func TestRunCommandDaemonizing(t *testing.T) {
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "run.lock")
	held, err := lock.Acquire(context.Background(), lockPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	done := make(chan error, 1)
	go func() {
		done <- RunCommand(context.Background(), []string{"sh", "-c", "sleep 30 & echo $! > " + pidFile}, 20*time.Second)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemonizing command reported: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("RunCommand waited for the daemonized child")
	}
	pid := readPid(t, pidFile)
	defer syscall.Kill(pid, syscall.SIGKILL)
	if !alive(pid) {
		t.Fatalf("the daemon should still run (it is not ours to kill)")
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	next, err := lock.Acquire(context.Background(), lockPath, 0)
	if err != nil {
		t.Fatalf("the next run cannot take the lock while the daemon lives: %v", err)
	}
	next.Release()
}

// TestSystemdWithoutSystemd: on a machine whose PID 1 is not systemd (a
// container, this test machine) the real systemctl fails at once with its
// own one-line reason instead of hanging; the action is then retried on the
// next run.
func TestSystemdWithoutSystemd(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd is PID 1 here: this test is about its absence (the nspawn system test covers its presence)")
	}
	testenv.Tool(t, "systemctl", "Debian's systemd package provides it; .ci/run installs it")
	s := &Systemd{Timeout: 5 * time.Second}
	err := s.Reload(context.Background(), "nginx.service")
	if err == nil || !strings.HasPrefix(err.Error(), "reload nginx.service: systemctl show: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}
