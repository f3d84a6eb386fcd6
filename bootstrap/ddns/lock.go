package ddns

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockState takes an exclusive lock next to the state file, so that two
// applies (even in one process) never send the same update twice or lose
// each other's state. The run holds its own lock too; this one keeps the
// step safe on its own. It waits until ctx is done.
func lockState(ctx context.Context, dir string) (unlock func(), err error) {
	path := filepath.Join(dir, stateName+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ddns state lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, fmt.Errorf("ddns state lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("ddns state lock %s: held by another run: %w", path, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
