package run

import (
	"context"
	"fmt"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ec2detect"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/bootstrap/userdata"
)

// Early runs opts.Steps (the relocation) from what the last run cached, with
// no network: ec2boot-early.service starts it before the network and before
// journald flushes to /var/log. With nothing cached for this instance (its
// first boot) it does nothing and says so: the main run relocates instead.
func Early(ctx context.Context, opts Options) *Report {
	opts.defaults()
	cmd := opts.Command
	if cmd == "" {
		cmd = "relocate"
	}
	rep := &Report{Command: cmd, Version: opts.Version, StartedAt: opts.Clock.Now()}
	done := func(code int, msg string) *Report {
		rep.ExitCode, rep.Outcome, rep.Message = code, outcomeOf(code), msg
		rep.Duration = Millis(opts.Clock.Now().Sub(rep.StartedAt))
		if !opts.DryRun {
			logSummary(opts.Log, rep)
		}
		return rep
	}
	log := opts.Log

	env, why, err := cachedEnv(&opts)
	if err != nil {
		log.Error().Msg(err.Error())
		return done(ExitInvalid, err.Error())
	}
	if env == nil {
		if cmd == "relocate" {
			why += "; the main run will do it"
		} else {
			why += "; nothing to do"
		}
		log.Info().Msg(why)
		return done(ExitOK, why)
	}
	env.IMDSEndpoint = opts.IMDSEndpoint
	if !opts.DryRun {
		release, err := acquireLock(ctx, opts.Root, opts.LockWait)
		if err != nil {
			log.Error().Err(err).Msg("not running")
			return done(lockExitCode(ctx, err), err.Error())
		}
		defer release()
	}
	rep.InstanceID = env.Facts.InstanceID
	rep.FactsSource = env.Facts.Source
	return done(runSteps(ctx, opts, env, rep, nil), "")
}

// cachedEnv builds a step environment from the cached facts and user-data.
// It returns nil and the reason when there is nothing usable.
func cachedEnv(opts *Options) (*step.Env, string, error) {
	dir := opts.Root.Path(state.Dir)
	probe, err := state.Open(dir, "", true)
	if err != nil {
		return nil, "", err
	}
	f, savedBy, _, found, err := facts.LoadCached(probe)
	if err != nil {
		return nil, "", err
	}
	if !found {
		return nil, "no cached facts yet (first boot)", nil
	}
	// On Nitro the machine tells its own instance-id; cached facts from
	// another instance (a state directory baked into the image) are not ours.
	if id := ec2detect.Detect(opts.Root).InstanceID; id != "" && id != savedBy {
		return nil, fmt.Sprintf("cached facts are %s's, this is %s", savedBy, id), nil
	}
	store, err := state.Open(dir, savedBy, opts.DryRun)
	if err != nil {
		return nil, "", err
	}
	raw, _, _, err := userdata.LoadCache(store)
	if err != nil {
		return nil, "", err
	}
	ex, err := userdata.Extract(raw)
	if err != nil {
		return nil, "", fmt.Errorf("cached %w", err)
	}
	cfg, problems := config.LoadFiles(opts.Root.Path(opts.ConfigPath), opts.ConfigPath, config.Source{Name: "cached " + ex.Source, Data: ex.TOML})
	if err := problems.Err(); err != nil {
		return nil, "", err
	}
	f.Source = facts.SourceCache
	return &step.Env{
		Root: opts.Root, Config: cfg, Facts: f, State: store, Log: opts.Log,
		Clock: opts.Clock, Force: opts.Force, DryRun: opts.DryRun, Version: opts.Version,
	}, "", nil
}
