package cli

import (
	"context"

	"github.com/ec2boot/ec2boot/bootstrap/relocate"
	"github.com/ec2boot/ec2boot/bootstrap/run"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Relocate is `ec2boot relocate`: only the instance-store step, from the
// cached configuration and facts, with no network.
func Relocate(ctx context.Context, g *Globals) int {
	ctx, stop := interrupted(ctx, g)
	defer stop()
	rep := run.Early(ctx, run.Options{
		Root:       g.root(),
		ConfigPath: g.ConfigPath,
		Log:        g.Log,
		Out:        g.Stdout,
		Clock:      g.clock(),
		Version:    g.Version,
		Steps:      []step.Step{relocate.New()},
	})
	return rep.ExitCode
}
