// Package lock keeps two ec2boot runs (the boot job, a timer run, a manual
// run) from overlapping. It is one flock(2) on a lock file: the kernel drops
// it when the holder's file is closed, so a crashed or killed run never
// leaves a stale lock behind, and the file is opened close-on-exec so that
// commands a run starts (reload actions that daemonize) do not inherit it
// and keep holding it after the run is gone.
package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Polling bounds: flock has no timeout of its own, and a blocking flock
// could not honour ctx, so a waiter retries with back-off between these.
const (
	pollMin = 10 * time.Millisecond
	pollMax = 500 * time.Millisecond
)

// HeldError means another process held the lock for the whole wait. The
// run maps it to exit code 5.
type HeldError struct {
	Path string
	// PID is the holder's, as it wrote it into the lock file; 0 if unknown.
	PID  int
	Wait time.Duration
	// Err is the context's error when the wait was cut short, else nil.
	Err error
}

func (e *HeldError) Error() string {
	pid := "unknown"
	if e.PID > 0 {
		pid = strconv.Itoa(e.PID)
	}
	msg := fmt.Sprintf("another ec2boot run holds the lock (pid %s)", pid)
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s; waited %s", msg, e.Wait)
}

func (e *HeldError) Unwrap() error { return e.Err }

// Lock is a held lock.
type Lock struct {
	f *os.File
}

// Acquire takes the lock at path, creating the file (0600) and its
// directory (0700) when missing. When another process holds it, Acquire
// polls with back-off until the holder lets go, wait has passed (zero or
// less: one attempt only) or ctx ends; the latter two return a *HeldError
// naming the holder's pid.
func Acquire(ctx context.Context, path string, wait time.Duration) (*Lock, error) {
	deadline := time.NewTimer(max(wait, 0))
	defer deadline.Stop()
	return acquire(ctx, path, max(wait, 0), deadline.C)
}

// Wait takes the lock at path as Acquire does, waiting for as long as ctx
// lasts; when ctx ends first it returns a *HeldError wrapping ctx's error.
// For a caller whose whole budget is its context, as a step's apply.
func Wait(ctx context.Context, path string) (*Lock, error) {
	return acquire(ctx, path, 0, nil)
}

// acquire polls until it holds the lock, expired fires (nil: never) or ctx
// ends.
func acquire(ctx context.Context, path string, wait time.Duration, expired <-chan time.Time) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	delay := pollMin
	for {
		f, err := tryLock(path)
		if err != nil {
			return nil, err
		}
		if f.locked {
			if err := writePID(f.File); err != nil {
				f.Close()
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			return &Lock{f: f.File}, nil
		}
		retry := time.NewTimer(delay)
		select {
		case <-retry.C:
			f.Close()
		case <-expired:
			retry.Stop()
			// One last try: the holder may have let go during the sleep.
			last, err := tryLock(path)
			if err != nil {
				f.Close()
				return nil, err
			}
			if last.locked {
				f.Close()
				if err := writePID(last.File); err != nil {
					last.Close()
					return nil, fmt.Errorf("lock %s: %w", path, err)
				}
				return &Lock{f: last.File}, nil
			}
			last.Close()
			return nil, held(f.File, path, wait, nil)
		case <-ctx.Done():
			retry.Stop()
			return nil, held(f.File, path, wait, ctx.Err())
		}
		delay = min(delay*2, pollMax)
	}
}

type attempt struct {
	*os.File
	locked bool
}

// tryLock opens the lock file and tries once to lock it. Unlocked, the file
// stays open for reading the holder's pid. A file that was replaced between
// open and lock (someone removed it) is retried, or two runs could each
// lock a different file under the same name.
func tryLock(path string) (attempt, error) {
	for {
		// os.OpenFile always adds O_CLOEXEC; it is spelled out because the
		// package's promise depends on it.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return attempt{}, fmt.Errorf("lock %s: %w", path, err)
		}
		err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return attempt{File: f}, nil
		}
		if err != nil {
			f.Close()
			return attempt{}, fmt.Errorf("lock %s: flock: %w", path, err)
		}
		if same(f, path) {
			return attempt{File: f, locked: true}, nil
		}
		f.Close()
	}
}

// same reports whether the open file is still the one at path.
func same(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// flock retries on EINTR: the Go runtime's signals can interrupt it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func held(f *os.File, path string, wait time.Duration, ctxErr error) error {
	defer f.Close()
	return &HeldError{Path: path, PID: readPID(f), Wait: wait, Err: ctxErr}
}

// writePID records the holder for the next acquirer's message. It is only
// a hint: the flock, not the file's content, is the lock.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Release lets go of the lock. The file stays: removing it would let a
// waiter lock a file that the next run no longer opens.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Clear the pid first, so that nobody reads a stale one.
	_ = f.Truncate(0)
	if err := flock(f, unix.LOCK_UN); err != nil {
		f.Close()
		return fmt.Errorf("lock %s: unlock: %w", f.Name(), err)
	}
	return f.Close()
}
