// Package run is ec2boot's orchestration: gather facts, load the
// configuration, then plan and apply each step in a fixed order, and report
// one honest exit code.
package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/diskguard"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/hosts"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	"github.com/ec2boot/ec2boot/bootstrap/relocate"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// DefaultConfigPath is the local configuration file, merged under user-data.
const DefaultConfigPath = "/etc/ec2boot/config.toml"

// Options configure one run. The zero value of each field has a sensible
// meaning, except Root and Metadata.
type Options struct {
	Root       hostfs.Root
	ConfigPath string // host path, under Root; default DefaultConfigPath
	// ConfigRequired makes a missing ConfigPath an error (--config given).
	ConfigRequired bool
	// Metadata is the instance metadata service; see NewMetadata.
	Metadata Metadata
	Log      zerolog.Logger
	// Out receives `plan` output.
	Out     io.Writer
	Clock   clock.Clock
	Version string
	// DryRun makes this a `plan`: steps plan and describe, nothing changes.
	DryRun bool
	Force  bool
	// LockWait bounds how long a run waits for another to finish.
	LockWait time.Duration
	// Steps overrides the step list (tests).
	Steps []step.Step
	// Command names an Early run in its report and log: "relocate" when
	// empty, "stop" for `ec2boot stop`.
	Command string
	// IMDSEndpoint is given to the steps of an Early run, whose AWS SDK
	// clients take the instance role's credentials from it ("" is the
	// SDK's default).
	IMDSEndpoint string
	// Publish, when set, is given the final report of a run that wrote its
	// status and configured a metrics file, while the run still holds its
	// lock (so two runs never interleave their metrics); its error is
	// logged.
	Publish func(*Report) error
}

// Metadata is the instance metadata service as the run uses it.
type Metadata interface {
	// Facts gathers the instance's facts, waiting for the service to come
	// up within the configured deadline.
	Facts(ctx context.Context, cfg config.IMDS) (*facts.Facts, error)
	// UserData returns the raw user-data; nil without error when there is none.
	UserData(ctx context.Context) ([]byte, error)
}

func (o *Options) defaults() {
	if o.ConfigPath == "" {
		o.ConfigPath = DefaultConfigPath
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Steps == nil {
		o.Steps = Steps()
	}
	if o.LockWait == 0 {
		o.LockWait = 2 * time.Minute
	}
}

// Run performs `ec2boot run` (or `plan` with DryRun) and returns its report;
// Report.ExitCode is the process exit code.
func Run(ctx context.Context, opts Options) *Report {
	opts.defaults()
	start := opts.Clock.Now()
	rep := &Report{Command: "run", Version: opts.Version, StartedAt: start}
	if opts.DryRun {
		rep.Command = "plan"
	}
	log := opts.Log
	configLoaded := false
	finish := func(code int, msg string) *Report {
		rep.ExitCode, rep.Outcome, rep.Message = code, outcomeOf(code), msg
		rep.Duration = Millis(opts.Clock.Now().Sub(start))
		if !opts.DryRun {
			if !configLoaded {
				// No configuration to say where metrics go: they go
				// where the last run put them, so that a broken
				// user-data shows there as a failed run.
				if old, err := ReadReport(opts.Root); err == nil && old != nil {
					rep.MetricsFile = old.MetricsFile
				}
			}
			if err := writeReport(opts.Root, rep); err != nil {
				// A run that cannot record itself has failed, whatever
				// its steps did: `status` must not go on showing the
				// previous run's result.
				rep.ExitCode = worst(rep.ExitCode, ExitStepFailed)
				rep.Outcome = outcomeOf(rep.ExitCode)
				log.Error().Err(err).Msg("could not record the run's status")
				if ferr := forgetReport(opts.Root, rep, err); ferr != nil {
					log.Error().Msg(ferr.Error())
				}
			} else if opts.Publish != nil && rep.MetricsFile != "" {
				// The exit code stays what status says: a file that
				// stops being rewritten shows as stale metrics.
				if err := opts.Publish(rep); err != nil {
					log.Error().Msg(err.Error())
				}
			}
			logSummary(log, rep)
		}
		return rep
	}

	if !opts.DryRun {
		release, err := acquireLock(ctx, opts.Root, opts.LockWait)
		if err != nil {
			log.Error().Err(err).Msg("not running")
			code := lockExitCode(ctx, err)
			if code != ExitStepFailed {
				rep.ExitCode, rep.Outcome, rep.Message = code, outcomeOf(code), err.Error()
				rep.Duration = Millis(opts.Clock.Now().Sub(start))
				logSummary(log, rep)
				return rep // the other run owns the status file
			}
			// No run can take the lock (a full or read-only /run), so
			// none is writing the status either: this one records its
			// failure, or at least removes the last run's success.
			return finish(code, err.Error())
		}
		defer release()
	}

	in, code, err := prepare(ctx, &opts, log)
	if interrupt.Cancelled(ctx) {
		// Whatever prepare made of a cancelled request (no metadata, a
		// fallback to cached facts) is not a finding about this instance.
		return finish(ExitInterrupted, interruptedMsg(ctx, "before any step started; nothing was changed"))
	}
	if err != nil {
		log.Error().Msg(err.Error())
		return finish(code, err.Error())
	}
	configLoaded = true
	rep.MetricsFile = in.cfg.Metrics.File()
	rep.InstanceID = in.facts.InstanceID
	rep.FactsSource = in.facts.Source
	rep.Config = in.warnings
	env := &step.Env{
		Root: opts.Root, Config: in.cfg, Facts: in.facts, State: in.store,
		Log: log, Clock: opts.Clock, Force: opts.Force, DryRun: opts.DryRun, Version: opts.Version,
	}
	if m, ok := opts.Metadata.(interface{ Client() *imds.Client }); ok && m.Client() != nil {
		env.IMDSEndpoint = m.Client().Endpoint()
	}
	if opts.DryRun {
		describeNames(opts.Out, in)
	}
	stepCode := runSteps(ctx, opts, env, rep, in.namesErr)
	code = worst(code, stepCode)
	msg := ""
	if in.facts.Degraded != "" {
		msg = in.facts.Degraded
	}
	if interrupt.Cancelled(ctx) {
		// Nothing new is written after an interruption, even one after
		// the last step: the caches wait for the next complete run.
		return finish(ExitInterrupted, interruptedMsg(ctx, interruptedSteps(rep)))
	}
	if !opts.DryRun {
		if err := in.saveCaches(); err != nil {
			// Not fatal to what was applied, but the next run (and the
			// early unit) will lack them: the run says so and fails.
			log.Error().Err(err).Msg("could not cache facts and user-data for the next run")
			rep.Steps = append(rep.Steps, StepReport{Name: "state", Status: "failed", Error: err.Error()})
			code = worst(code, ExitStepFailed)
		}
	}
	return finish(code, msg)
}

// runSteps plans and applies each step; a failure does not stop the next,
// an interruption does: the steps after it are reported skipped.
// namesErr, when set, fails the steps that use names without running them.
func runSteps(ctx context.Context, opts Options, env *step.Env, rep *Report, namesErr error) int {
	code := ExitOK
	for _, s := range opts.Steps {
		if interrupt.Cancelled(ctx) {
			rep.Steps = append(rep.Steps, StepReport{Name: s.Name(), Status: "skipped", Error: "not started: the run was interrupted"})
			code = ExitInterrupted
			continue
		}
		t0 := opts.Clock.Now()
		slog := env.Log.With().Str("step", s.Name()).Logger()
		senv := *env
		senv.Log = slog
		sr := StepReport{Name: s.Name(), Status: "unchanged"}
		var res step.Result
		var pending bool
		var err error
		if namesErr != nil && usesNames(s.Name()) {
			err = fmt.Errorf("not run (nothing sent, nothing written): %w", namesErr)
		} else {
			res, pending, err = planAndApply(ctx, s, &senv, opts, rep, &sr)
		}
		sr.Changed, sr.Degraded = res.Changed, res.Degraded
		switch {
		case err != nil && interrupt.Cancelled(ctx):
			// What a cancelled request or command made of the step is
			// not a failure of the step, the peer or the provider.
			sr.Status, sr.Error = "interrupted", err.Error()
			code = ExitInterrupted
			slog.Warn().Err(err).Msg("step interrupted")
		case err == nil && pending:
			sr.Status = "pending" // plan only: Apply would change something
		case err != nil:
			sr.Status, sr.Error = "failed", err.Error()
			code = worst(code, ExitStepFailed)
			slog.Error().Err(err).Msg("step failed")
		case len(res.Degraded) > 0:
			sr.Status = "degraded"
			code = worst(code, ExitDegraded)
		case len(res.Changed) > 0:
			sr.Status = "changed"
		}
		// Steps log neither their changes nor what they found degraded:
		// each is logged here, once, failed step or not.
		for _, d := range res.Degraded {
			slog.Warn().Msg(d)
		}
		for _, c := range res.Changed {
			slog.Info().Msg(c)
		}
		sr.Duration = Millis(opts.Clock.Now().Sub(t0))
		slog.Debug().Str("took", time.Duration(sr.Duration).Round(100*time.Microsecond).String()).Str("status", sr.Status).Msg("step done")
		rep.Steps = append(rep.Steps, sr)
	}
	return code
}

// requestCounter is a plan that counts the provider requests it sent.
type requestCounter interface{ Requests() int }

// planAndApply plans a step, and applies it unless this is a dry run.
// pending is set for a dry run whose plan would change something.
// What steps measured goes into the report (status and metrics show it):
// the disk guard's usage, the peers, the relocated paths, the requests.
func planAndApply(ctx context.Context, s step.Step, env *step.Env, opts Options, rep *Report, sr *StepReport) (res step.Result, pending bool, err error) {
	defer func() {
		// A step must never take the whole run down: a bug in one is
		// reported as that step's failure.
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in step %s: %v", s.Name(), r)
		}
	}()
	p, err := s.Plan(ctx, env)
	if err != nil {
		return step.Result{}, false, err
	}
	if u := diskguard.Usages(p); u != nil {
		rep.Disk = u
	}
	if err := ctx.Err(); err != nil && !opts.DryRun {
		// Interrupted while planning: apply nothing.
		return step.Result{}, false, context.Cause(ctx)
	}
	if opts.DryRun {
		var buf bytes.Buffer
		p.Describe(&buf)
		if buf.Len() > 0 {
			fmt.Fprintf(opts.Out, "== %s\n%s", s.Name(), buf.Bytes())
			if buf.Bytes()[buf.Len()-1] != '\n' {
				fmt.Fprintln(opts.Out)
			}
		}
		pending = buf.Len() > 0
		if pp, ok := p.(step.Pending); ok {
			pending = pp.Pending()
		}
		return step.Result{}, pending, nil
	}
	if ps := hosts.PeerSummary(p); ps != nil {
		rep.Peers = ps
	}
	res, err = p.Apply(ctx)
	if rc, ok := p.(requestCounter); ok {
		sr.Requests = rc.Requests()
	}
	if st := relocate.PathStates(p); st != nil {
		rep.Relocation = st
	}
	return res, false, err
}

// logSummary is the one line every run ends with, whatever its outcome:
// what came of it, its exit code, how many changes, and how long it took.
func logSummary(log zerolog.Logger, rep *Report) {
	changed := 0
	for _, s := range rep.Steps {
		changed += len(s.Changed)
	}
	ev := log.Info()
	switch rep.ExitCode {
	case ExitOK:
	case ExitDegraded, ExitNoMetadata, ExitInterrupted:
		ev = log.Warn()
	default:
		ev = log.Error()
	}
	msg := "nothing to change"
	if changed > 0 {
		msg = fmt.Sprintf("%d change(s) applied", changed)
	}
	if rep.ExitCode != ExitOK {
		msg = fmt.Sprintf("%s %s (exit %d): %s", rep.Command, rep.Outcome, rep.ExitCode, msg)
	}
	// Disk usage after every run, in the one line a quiet run logs.
	if disk := diskSummary(rep.Disk); disk != "" {
		msg += "; disk " + disk
		ev = ev.Str("disk", disk)
	}
	ev.Str("outcome", rep.Outcome).Int("exit_code", rep.ExitCode).Int("changes", changed).
		Str("took", time.Duration(rep.Duration).Round(100*time.Microsecond).String()).Msg(msg)
}

// diskSummary is "/ 20% used, /mnt 3% used", with inodes when they are the
// fuller.
func diskSummary(us []diskguard.Usage) string {
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = fmt.Sprintf("%s %d%% used", u.Path, u.Percent)
		if u.InodePct > u.Percent {
			parts[i] += fmt.Sprintf(" (inodes %d%%)", u.InodePct)
		}
	}
	return strings.Join(parts, ", ")
}

// input is what a run works from.
type input struct {
	facts    *facts.Facts
	cfg      *config.Config
	store    *state.Store
	warnings []string
	cache    func() error
	// names lists each name made from a template, for plan; namesErr says
	// why some could not be made (the steps that use names then do nothing).
	names    []expandedName
	namesErr error
}

func (in *input) saveCaches() error {
	if in.cache == nil {
		return nil
	}
	return in.cache()
}

// interruptedMsg is the run's message after an interruption: what stopped
// it and how far it got.
func interruptedMsg(ctx context.Context, where string) string {
	cause := context.Cause(ctx)
	if cause == nil || cause == context.Canceled {
		cause = interrupt.ErrInterrupted
	}
	return fmt.Sprintf("%v %s", cause, where)
}

// interruptedSteps says which steps the interruption cut short or skipped.
func interruptedSteps(rep *Report) string {
	var cut, skipped []string
	for _, s := range rep.Steps {
		switch s.Status {
		case "interrupted":
			cut = append(cut, s.Name)
		case "skipped":
			skipped = append(skipped, s.Name)
		}
	}
	msg := "between steps"
	switch {
	case len(cut) > 0:
		msg = "during " + strings.Join(cut, ", ")
	case len(skipped) == 0:
		msg = "after the last step, before caching facts and user-data"
	}
	if len(skipped) > 0 {
		msg += "; not started: " + strings.Join(skipped, ", ")
	}
	return msg + "; the next run does the rest"
}
