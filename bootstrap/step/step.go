// Package step is the contract between the run and its steps. Every step
// first plans (reads, decides, changes nothing), then applies. `ec2boot plan`
// only ever calls Plan and Describe.
package step

import (
	"context"
	"io"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// Env is what every step is given.
type Env struct {
	Root   hostfs.Root
	Config *config.Config
	Facts  *facts.Facts
	State  *state.Store // read-only during plan
	Log    zerolog.Logger
	Clock  clock.Clock
	// Force makes steps act even where their state says nothing changed
	// (run --force): resend DNS updates, clear sticky errors.
	Force bool
	// DryRun is set for `plan`: nothing may be changed, not even state.
	DryRun bool
	// Version is the binary's version, for User-Agent strings.
	Version string
	// IMDSEndpoint is the metadata service the run read its facts from;
	// AWS SDK clients take the instance role's credentials from it too.
	IMDSEndpoint string
}

// Step is one stage of a run.
type Step interface {
	Name() string
	// Plan works out what Apply would do. It must not change anything.
	Plan(ctx context.Context, env *Env) (Plan, error)
}

// Plan is a step's decided work.
type Plan interface {
	// Describe writes what Apply would do, for `ec2boot plan`: file diffs,
	// requests (secrets redacted), mounts, and why. It writes nothing when
	// there is nothing to say.
	Describe(w io.Writer)
	// Apply carries the plan out. It returns what it did even when it also
	// returns an error (some parts applied, some failed).
	Apply(ctx context.Context) (Result, error)
}

// Result is what Apply did.
type Result struct {
	// Changed lists each change made, one short line each.
	Changed []string
	// Degraded lists conditions that do not fail the step but that
	// monitoring must see (disk past its threshold, stale peers kept).
	Degraded []string
}

// Pending is implemented by plans that know whether Apply would change
// anything, for `plan --detailed-exitcode`. A plan without it is taken to
// have changes when Describe says anything; one whose Describe reports
// without proposing changes (the disk guard's usage) implements it.
type Pending interface {
	Pending() bool
}
