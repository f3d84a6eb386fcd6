package cli

import (
	"context"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/run"
)

// RunFlags are the flags of `run` and `plan`.
type RunFlags struct {
	Force    bool
	DryRun   bool
	LockWait time.Duration
}

// Run is `ec2boot run` and `ec2boot plan`.
func Run(ctx context.Context, g *Globals, f RunFlags) int {
	md, code, err := newMetadata(g, true)
	if err != nil {
		g.Log.Error().Msg(err.Error())
		return code
	}
	rep := run.Run(ctx, run.Options{
		Root:       g.root(),
		ConfigPath: g.ConfigPath,
		Metadata:   md,
		Log:        g.Log,
		Out:        g.Stdout,
		Clock:      g.clock(),
		Version:    g.Version,
		DryRun:     f.DryRun,
		Force:      f.Force,
		LockWait:   f.LockWait,
	})
	if f.DryRun && rep.ExitCode != run.ExitInvalid {
		// plan reports problems but exits 0: it changed nothing, and a
		// failed or blocked step is exactly what it is there to show.
		return run.ExitOK
	}
	return rep.ExitCode
}
