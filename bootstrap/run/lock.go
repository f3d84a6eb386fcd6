package run

import (
	"context"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/lock"
)

// LockFile serialises runs: the timer's, a manual one and the early unit's.
const LockFile = RuntimeDir + "/lock"

func acquireLock(ctx context.Context, root hostfs.Root, wait time.Duration) (func(), error) {
	l, err := lock.Acquire(ctx, root.Path(LockFile), wait)
	if err != nil {
		return nil, err
	}
	return func() { l.Release() }, nil
}
