package lock

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// RuntimeDir holds what other units read and what lives only until reboot.
// It is readable by all (0755), as are the facts and the status in it: a
// service running as its own user sources facts.env, and anyone may run
// `ec2boot status`. Neither holds a secret. What is root's alone (the run
// lock) lives in PrivateDir.
const RuntimeDir = "/run/ec2boot"

// PrivateDir holds what only root may read, apart from the runtime
// directory's public files: Acquire creates it 0700.
const PrivateDir = RuntimeDir + "/private"

// RunFile serialises runs (the timer's, a manual one, the early unit's) and
// prepare-image --apply with them.
const RunFile = PrivateDir + "/lock"

// AcquireRun takes the run lock under root as Acquire does, after making
// the runtime directory public.
func AcquireRun(ctx context.Context, root hostfs.Root, wait time.Duration) (*Lock, error) {
	if err := PublicRuntimeDir(root); err != nil {
		return nil, err
	}
	return Acquire(ctx, root.Path(RunFile), wait)
}

// PublicRuntimeDir makes the runtime directory 0755 before the lock's
// private directory inside it (which Acquire would make, parents included,
// 0700), or opens up one an earlier version made 0700: only its mode
// changes, never its owner, and only when it is a directory of the running
// user's (no link is followed).
func PublicRuntimeDir(root hostfs.Root) error {
	dir := root.Path(RuntimeDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is not a directory of ours", RuntimeDir)
	}
	if fi.Mode().Perm() != 0o755 {
		return os.Chmod(dir, 0o755)
	}
	return nil
}
