package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/userdata"
)

// prepare gathers facts and the configuration. On failure it returns the
// exit code and an error that says what and where, having changed nothing.
func prepare(ctx context.Context, opts *Options, log zerolog.Logger) (*input, int, error) {
	local := config.Local{Path: opts.Root.Path(opts.ConfigPath), Name: opts.ConfigPath, Required: opts.ConfigRequired}
	// Only [imds] is needed before user-data is read; the rest is
	// validated once user-data is merged over the local file.
	imdsCfg, problems := config.LoadIMDS(local)
	if err := problems.Err(); err != nil {
		return nil, ExitInvalid, err
	}
	if opts.Metadata == nil {
		return nil, ExitNoMetadata, errors.New("no instance metadata source")
	}
	stateDir := opts.Root.Path(state.Dir)
	code := ExitOK

	f, err := opts.Metadata.Facts(ctx, imdsCfg)
	if err != nil {
		return nil, ExitNoMetadata, err
	}
	fresh := f.Source != facts.SourceCache
	if !fresh {
		log.Warn().Str("instance_id", f.InstanceID).Msg("degraded: " + f.Degraded)
		code = ExitNoMetadata
	}
	for _, w := range f.Warnings {
		log.Warn().Msg(w)
	}

	store, err := state.Open(stateDir, f.InstanceID, opts.DryRun)
	if err != nil {
		return nil, ExitStepFailed, err
	}
	if err := store.Unwritable(); err != nil {
		log.Warn().Msg(err.Error())
	}
	if other := foreignState(store); other != "" {
		log.Info().Str("other_instance_id", other).Msg("state left by another instance (baked into the image?) is ignored")
	}

	raw, cached, err := userDataFor(ctx, opts.Metadata, store, fresh)
	if errors.Is(err, imds.ErrTooLarge) {
		return nil, ExitInvalid, err
	}
	if err != nil {
		return nil, ExitNoMetadata, err
	}
	if cached != "" {
		log.Warn().Msg(cached)
		code = ExitNoMetadata
	}
	extracted, err := userdata.Extract(raw)
	if err != nil {
		return nil, ExitInvalid, err
	}
	log.Debug().Str("user_data", extracted.Describe()).Msg("user-data read")
	if extracted.TOML == nil && len(raw) > 0 {
		log.Info().Msgf("user-data has no ec2boot part (%s); using the local configuration only", extracted.Describe())
	}
	cfg, problems := local.Load(config.Source{Name: extracted.Source, Data: extracted.TOML})
	if err := problems.Err(); err != nil {
		return nil, ExitInvalid, err
	}
	in := &input{facts: f, cfg: cfg, store: store}
	for _, w := range problems.Warnings() {
		log.Warn().Msg(w.String())
		in.warnings = append(in.warnings, w.String())
	}
	in.expandNames(log)
	if fresh {
		in.cache = func() error { return saveCaches(store, f, raw, opts.Clock.Now()) }
	}
	return in, code, nil
}

// userDataFor fetches user-data, or takes this instance's cached copy when
// the metadata service is unreachable; cached then says so.
func userDataFor(ctx context.Context, md Metadata, store *state.Store, fresh bool) (raw []byte, cached string, err error) {
	if fresh {
		raw, err := md.UserData(ctx)
		if err == nil {
			return raw, "", nil
		}
		if errors.Is(err, imds.ErrTooLarge) {
			// The service answered: this is the user-data, and it is
			// refused like any other bad user-data, never swapped for the
			// copy of an earlier boot.
			return nil, "", err
		}
		if b, ok := cachedUserData(store); ok {
			return b, fmt.Sprintf("degraded: %v; using the user-data cached by the last run", err), nil
		}
		return nil, "", err
	}
	b, ok := cachedUserData(store)
	if !ok {
		return nil, "no user-data cached for this instance; using the local configuration only", nil
	}
	return b, "", nil
}

func cachedUserData(store *state.Store) ([]byte, bool) {
	b, found, _, err := userdata.LoadCache(store)
	return b, found && err == nil
}

// foreignState returns the instance-id of cached facts written by another
// instance, if any.
func foreignState(store *state.Store) string {
	var f facts.Facts
	id, _, found, err := store.LoadAny(facts.CacheName, &f)
	if !found || err != nil || id == store.InstanceID() {
		return ""
	}
	return id
}

// saveCaches keeps the facts and user-data for runs without the metadata
// service and for the early relocation unit; unchanged, they write nothing.
func saveCaches(store *state.Store, f *facts.Facts, userData []byte, now time.Time) error {
	if err := facts.SaveCached(store, f, now); err != nil {
		return err
	}
	return userdata.SaveCache(store, userData, now)
}
