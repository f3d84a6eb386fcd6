package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// outputLimit bounds how much of a command's output goes into an error.
const outputLimit = 2048

// pipeGrace is how long we wait for a command's output after it exited: a
// child it left running in the background may hold the pipe open for ever.
const pipeGrace = 500 * time.Millisecond

// RunCommand runs argv (no shell) in its own process group, bounded by
// timeout; on timeout the whole group is killed, so nothing it started is
// left behind holding on. stdin is /dev/null; the child inherits no other
// descriptors of ours (Go opens every file close-on-exec), so a daemon it
// starts cannot keep the run lock.
func RunCommand(ctx context.Context, argv []string, timeout time.Duration) error {
	if len(argv) == 0 {
		return errors.New("empty command")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = pipeGrace
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		// It exited successfully; only a background child still holds
		// its output. That is the daemonizing case, and fine.
		err = nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		// Make sure the group is gone even when the leader exited first.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return fmt.Errorf("%s: timed out after %s; its process group was killed%s", quoteArgv(argv), timeout, out.suffix())
	}
	if err != nil {
		return fmt.Errorf("%s: %w%s", quoteArgv(argv), err, out.suffix())
	}
	return nil
}

func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			a = shellQuote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// limitedBuffer keeps the first outputLimit bytes.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := outputLimit - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) suffix() string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(s, "\n", " | ")
}
