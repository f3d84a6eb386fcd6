package cli

import (
	"context"

	"github.com/ec2boot/ec2boot/bootstrap/prepareimage"
)

// PrepareImage is `ec2boot prepare-image [--apply]`. It exits 0 when the
// image is clean (after --apply: when what ec2boot can clean was cleaned
// and nothing else needs the operator), 4 when the report lists findings.
func PrepareImage(ctx context.Context, g *Globals, apply bool) int {
	rep, err := prepareimage.Run(ctx, g.root(), g.ConfigPath, apply, g.Stdout)
	if err != nil {
		g.Log.Error().Msg(err.Error())
		if rep == nil {
			return ExitUsage
		}
		return ExitStepFailed
	}
	if !rep.Clean() {
		return ExitDegraded
	}
	return ExitOK
}
