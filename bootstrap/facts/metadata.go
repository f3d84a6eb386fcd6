package facts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ec2detect"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// DefaultTimeout is the overall deadline for the metadata service when the
// configuration gives none.
const DefaultTimeout = 60 * time.Second

// MetadataOptions configure NewMetadata.
type MetadataOptions struct {
	// Root is --root: the DMI files that tell EC2 apart are read under it.
	Root hostfs.Root
	// IMDS holds what the command line set (Endpoint from --imds-endpoint).
	IMDS imds.Options
	// LookupEnv reads the AWS SDK variables (os.LookupEnv); nil reads none.
	LookupEnv  func(string) (string, bool)
	Log        zerolog.Logger
	Clock      clock.Clock
	Interfaces func() ([]IfAddr, error)
	// Cache, when set, makes Facts fall back to the last known facts
	// (see Options.Cache). Leave it nil when the caller falls back itself.
	Cache *state.Store
	// PrefetchUserData makes Facts ask for the user-data too, with the
	// facts' values, for a caller that will call UserData: a round trip
	// less than asking afterwards.
	PrefetchUserData bool
}

// Metadata is the run's source of facts and user-data: one metadata client,
// made when the configuration is known, shared by both.
type Metadata struct {
	opt  MetadataOptions
	base imds.Options

	mu      sync.Mutex
	client  *imds.Client
	timeout time.Duration
	// userData is the user-data request Facts sent alongside the values.
	userData *prefetch
}

// prefetch is one request in flight, its answer kept for a later caller.
type prefetch struct {
	done   chan struct{}
	b      []byte
	err    error
	cancel context.CancelFunc
}

func startPrefetch(ctx context.Context, timeout time.Duration, get func(context.Context) ([]byte, error)) *prefetch {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	p := &prefetch{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(p.done)
		p.b, p.err = get(ctx)
	}()
	return p
}

// wait returns the answer, or ctx's error if it ends first.
func (p *prefetch) wait(ctx context.Context) ([]byte, error) {
	defer p.cancel()
	select {
	case <-p.done:
		return p.b, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NewMetadata applies the environment to the command-line options and
// checks them; it sends nothing.
func NewMetadata(opt MetadataOptions) (*Metadata, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	base, err := opt.IMDS.WithEnv(opt.LookupEnv)
	if err != nil {
		return nil, err
	}
	base.Log, base.Clock = opt.Log, opt.Clock
	if _, err := base.BaseURL(); err != nil {
		return nil, err
	}
	return &Metadata{opt: opt, base: base, timeout: DefaultTimeout}, nil
}

// Facts gathers the facts within cfg.Timeout. The endpoint comes from the
// command line, then the environment, then cfg. Unless one was given, a
// machine without an EC2 signature gets an error wrapping
// ec2detect.ErrNotEC2 at once (never cached facts), and nothing is sent.
// With metadata disabled by the environment, or unreachable, and a Cache,
// the last known facts come back marked Source "cache".
func (m *Metadata) Facts(ctx context.Context, cfg config.IMDS) (*Facts, error) {
	o := m.base
	if o.Endpoint == "" && cfg.Endpoint != "" {
		o.Endpoint = cfg.Endpoint
	}
	if cfg.RequestTimeout.Duration > 0 {
		o.RequestTimeout = cfg.RequestTimeout.Duration
	}
	timeout := DefaultTimeout
	if cfg.Timeout.Duration > 0 {
		timeout = cfg.Timeout.Duration
	}
	gopt := Options{Clock: m.opt.Clock, Log: m.opt.Log, Interfaces: m.opt.Interfaces, Cache: m.opt.Cache}
	det, err := ec2detect.Check(m.opt.Root, o.EndpointGiven() || o.Disabled)
	gopt.InstanceIDHint = det.InstanceID
	if err != nil {
		// Not an instance at all: cached facts (from an image build,
		// say) describe some other machine, so there is no fallback.
		return nil, err
	}
	if o.Disabled {
		return m.failed(gopt, fmt.Errorf("%w (%s=true)", imds.ErrDisabled, imds.EnvDisabled))
	}
	c, err := imds.New(o)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.client, m.timeout = c, timeout
	m.mu.Unlock()
	// The user-data is asked for with the facts' values, on the same
	// token: a round trip less on the run's critical path.
	if m.opt.PrefetchUserData {
		parent := ctx
		gopt.Listed = func() {
			p := startPrefetch(parent, timeout, c.GetUserData)
			m.mu.Lock()
			m.userData = p
			m.mu.Unlock()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := Gather(ctx, c, gopt)
	if f != nil {
		f.MetadataEndpoint = c.Endpoint()
	}
	if err != nil || f.Source != SourceIMDS {
		m.dropPrefetch() // facts from the cache come with cached user-data
	}
	return f, err
}

func (m *Metadata) dropPrefetch() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.userData != nil {
		m.userData.cancel()
		m.userData = nil
	}
}

// failed falls back to the cache, when there is one, for metadata that is
// turned off.
func (m *Metadata) failed(gopt Options, err error) (*Facts, error) {
	if gopt.Cache == nil {
		return nil, err
	}
	if gopt.Interfaces == nil {
		gopt.Interfaces = NetlinkInterfaces
	}
	return fromCache(gopt, err)
}

// UserData returns the raw user-data, or nil without error when the
// instance has none. Call it after Facts.
func (m *Metadata) UserData(ctx context.Context) ([]byte, error) {
	m.mu.Lock()
	c, timeout, p := m.client, m.timeout, m.userData
	m.userData = nil // a second call asks again
	m.mu.Unlock()
	if c == nil {
		return nil, errors.New("user-data: no metadata client (facts were not gathered from the service)")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var b []byte
	var err error
	if p != nil {
		b, err = p.wait(ctx)
	} else {
		b, err = c.GetUserData(ctx)
	}
	if errors.Is(err, imds.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("user-data: %w", err)
	}
	return b, nil
}

// Client returns the client Facts made, or nil before.
func (m *Metadata) Client() *imds.Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.client
}
