package cli

import (
	"context"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/metrics"
	"github.com/ec2boot/ec2boot/bootstrap/run"
)

// RunFlags are the flags of `run` and `plan`.
type RunFlags struct {
	Force    bool
	DryRun   bool
	LockWait time.Duration
	// DetailedExitCode is plan's --detailed-exitcode.
	DetailedExitCode bool
}

// Run is `ec2boot run` and `ec2boot plan`.
func Run(ctx context.Context, g *Globals, f RunFlags) int {
	md, _, err := newMetadata(g, true)
	if err != nil {
		name := "run"
		if f.DryRun {
			name = "plan"
		}
		return g.usageError(name, err)
	}
	ctx, stop := interrupted(ctx, g)
	defer stop()
	rep := run.Run(ctx, run.Options{
		Root:           g.root(),
		ConfigPath:     g.ConfigPath,
		ConfigRequired: g.ConfigExplicit,
		Metadata:       md,
		Log:            g.Log,
		Out:            g.Stdout,
		Clock:          g.clock(),
		Version:        g.Version,
		DryRun:         f.DryRun,
		Force:          f.Force,
		LockWait:       f.LockWait,
		Publish:        func(rep *run.Report) error { return publishMetrics(g, rep) },
	})
	if f.DryRun {
		return planExitCode(rep, f.DetailedExitCode)
	}
	return rep.ExitCode
}

// planExitCode is plan's exit code. Plain: what run would fail with that
// plan can already tell (1 invalid, 2 a step cannot plan, 3 no metadata),
// else 0; a degraded guard is only known by applying. With
// --detailed-exitcode, as Terraform does: 0 nothing to do, 2 changes,
// 1 any error. Interrupted is 75 either way.
func planExitCode(rep *run.Report, detailed bool) int {
	if rep.ExitCode == run.ExitInterrupted {
		return rep.ExitCode // a cut-short plan says nothing about the changes
	}
	failed := rep.ExitCode == run.ExitInvalid || rep.ExitCode == run.ExitStepFailed || rep.ExitCode == run.ExitNoMetadata
	if !detailed {
		if failed {
			return rep.ExitCode
		}
		return run.ExitOK
	}
	if failed || rep.ExitCode == run.ExitLocked {
		return 1
	}
	for _, s := range rep.Steps {
		if s.Status == "pending" {
			return 2
		}
	}
	return 0
}

// publishMetrics writes the run's metrics from what `status --json` shows:
// the report and each DNS record's state. Records that cannot be read
// (no state yet) leave the DNS metrics out, not the others.
func publishMetrics(g *Globals, rep *run.Report) error {
	records, err := dnsRecords(g)
	if err != nil {
		g.Log.Warn().Msgf("metrics: DNS records left out: %v", err)
	}
	return metrics.Write(g.root(), rep.MetricsFile, rep, records)
}
