package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	"github.com/ec2boot/ec2boot/bootstrap/lock"
)

func acquireLock(ctx context.Context, root hostfs.Root, wait time.Duration) (func(), error) {
	l, err := lock.AcquireRun(ctx, root, wait)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	return func() { l.Release() }, nil
}

// lockExitCode is 5 when another run holds the lock, 2 when the lock
// itself could not be taken (an unwritable /run, say), and 75 when a signal
// ended the wait.
func lockExitCode(ctx context.Context, err error) int {
	if interrupt.Cancelled(ctx) {
		return ExitInterrupted
	}
	var held *lock.HeldError
	if errors.As(err, &held) {
		return ExitLocked
	}
	return ExitStepFailed
}
