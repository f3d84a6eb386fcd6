package cli

import (
	"context"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/publish"
	"github.com/ec2boot/ec2boot/bootstrap/run"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// DefaultStopTimeout bounds `ec2boot stop`: shutdown waits for it.
const DefaultStopTimeout = 20 * time.Second

// Stop is `ec2boot stop`: this instance leaves every DNS role record it
// publishes under, from the cached configuration and facts, within timeout.
func Stop(ctx context.Context, g *Globals, timeout time.Duration) int {
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx, stop := interrupted(ctx, g)
	defer stop()
	rep := run.Early(ctx, run.Options{
		Root:         g.root(),
		ConfigPath:   g.ConfigPath,
		Log:          g.Log,
		Out:          g.Stdout,
		Clock:        g.clock(),
		Version:      g.Version,
		Command:      "stop",
		IMDSEndpoint: g.IMDSEndpoint,
		// The lock is waited for within the same budget.
		LockWait: timeout,
		Steps:    []step.Step{publish.NewLeave()},
	})
	return rep.ExitCode
}
