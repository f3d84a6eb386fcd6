package cli

import (
	"context"
	"os"

	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	"github.com/ec2boot/ec2boot/bootstrap/run"
)

// interrupted wires SIGTERM and SIGINT to ctx for the commands that change
// the system (run, relocate): the first stops the run at its next safe
// point, the second exits at once with the interrupted code.
func interrupted(ctx context.Context, g *Globals) (context.Context, func()) {
	exit := g.Exit
	if exit == nil {
		exit = os.Exit
	}
	return interrupt.Context(ctx, g.Log, func() { exit(run.ExitInterrupted) })
}
