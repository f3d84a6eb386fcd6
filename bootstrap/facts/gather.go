package facts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// Getter reads one metadata path; *imds.Client is one. A 404 must give an
// error wrapping imds.ErrNotFound.
type Getter interface {
	Get(ctx context.Context, path string) ([]byte, error)
}

// Options tune Gather.
type Options struct {
	Clock clock.Clock
	// Log gets debug messages; Warnings are for the caller to report.
	Log zerolog.Logger
	// Interfaces lists this machine's addresses for the local-ipv4
	// cross-check and the fallback; nil means netlink.
	Interfaces func() ([]IfAddr, error)
	// Cache, when set, is where the last known facts are kept: if the
	// metadata service gives no answer, Gather falls back to them instead
	// of failing. Any store will do (LoadAny ignores its instance-id).
	Cache *state.Store
	// InstanceIDHint is the instance-id the machine itself reports (the
	// DMI board asset tag on Nitro), used to recognise cached facts that
	// another instance left in the image. Empty when unknown.
	InstanceIDHint string
	// Parallel bounds the GETs in flight (default 32: every value of a
	// normal instance in one wave, so the whole gathering costs three
	// round trips: token, listing, values).
	Parallel int
	// Listed, when set, is called once the listing is read (the service
	// is up and the token is there), as the values are asked for: the
	// caller's own requests can go out in the same wave.
	Listed func()
}

const metaData = "/latest/meta-data/"

// leaf is one value read from meta-data.
type leaf struct {
	path     string
	required bool
	set      func(f *Facts, b []byte) error
}

// leaves are read in parallel once the token is there and the one listing
// is done.
func leaves() []leaf {
	return []leaf{
		{path: "instance-id", required: true, set: func(f *Facts, b []byte) error {
			f.InstanceID = string(trimmed(b))
			if !isInstanceID(f.InstanceID) {
				return fmt.Errorf("%q is not an instance-id", clip(f.InstanceID))
			}
			return nil
		}},
		{path: "ami-id", set: func(f *Facts, b []byte) (err error) { f.ImageID, err = parseToken(b); return }},
		{path: "instance-type", set: func(f *Facts, b []byte) (err error) { f.InstanceType, err = parseToken(b); return }},
		{path: "placement/region", set: func(f *Facts, b []byte) (err error) { f.Region, err = parseToken(b); return }},
		{path: "placement/availability-zone", set: func(f *Facts, b []byte) (err error) {
			f.AvailabilityZone, err = parseToken(b)
			return
		}},
		{path: "local-ipv4", set: func(f *Facts, b []byte) (err error) { f.LocalIPv4, err = parseAddr(b, true); return }},
		{path: "public-ipv4", set: func(f *Facts, b []byte) (err error) { f.PublicIPv4, err = parseAddr(b, true); return }},
		{path: "ami-launch-index", set: func(f *Facts, b []byte) (err error) { f.LaunchIndex, err = parseLaunchIndex(b); return }},
		{path: "instance-life-cycle", set: func(f *Facts, b []byte) (err error) { f.LifeCycle, err = parseToken(b); return }},
		{path: "autoscaling/target-lifecycle-state", set: func(f *Facts, b []byte) (err error) {
			f.TargetLifecycleState, err = parseToken(b)
			return
		}},
		{path: "local-hostname", set: func(f *Facts, b []byte) (err error) { f.LocalHostname, err = parseHost(b); return }},
		{path: "public-hostname", set: func(f *Facts, b []byte) (err error) { f.PublicHostname, err = parseHost(b); return }},
	}
}

// Gather reads the instance's facts from the metadata service with the
// fewest round trips: one token, one listing (block-device-mapping/), then
// every value in parallel on that token. A 404 means absent. Any other
// failure fails the gathering, because an error is not an empty answer;
// with opt.Cache set, Gather then falls back to the last known facts and
// marks them Source "cache" with the reason in Degraded.
//
// ctx carries the overall deadline: the client retries inside it while
// the service comes up.
func Gather(ctx context.Context, src Getter, opt Options) (*Facts, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Interfaces == nil {
		opt.Interfaces = NetlinkInterfaces
	}
	f, err := gatherIMDS(ctx, src, opt)
	if err == nil {
		f.GatheredAt = opt.Clock.Now().UTC()
		f.Source = SourceIMDS
		crossCheck(f, opt)
		opt.Log.Debug().Str("instance_id", f.InstanceID).Int("warnings", len(f.Warnings)).Msg("instance facts read from the metadata service")
		return f, nil
	}
	if opt.Cache == nil || errors.Is(ctx.Err(), context.Canceled) {
		return nil, err
	}
	return fromCache(opt, err)
}

func gatherIMDS(ctx context.Context, src Getter, opt Options) (*Facts, error) {
	f := &Facts{}
	// The listing first and alone: it also waits for the service and
	// gets the token, and AWS's emulator cannot take listings in
	// parallel with other requests.
	bdm, err := optional(ctx, src, metaData+"block-device-mapping/")
	if err != nil {
		return nil, err
	}
	names, err := ParseListing(bdm)
	if err != nil {
		return nil, fmt.Errorf("metadata block-device-mapping/: %w", err)
	}
	if opt.Listed != nil {
		opt.Listed()
	}

	parallel := opt.Parallel
	if parallel <= 0 {
		parallel = 32
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &wave{f: f, sem: make(chan struct{}, parallel), ctx: ctx, cancel: cancel}
	entries := map[string]string{}
	mu, fail, warn, run := &w.mu, w.fail, w.warn, w.run

	for _, l := range leaves() {
		run(func() {
			b, err := optional(ctx, src, metaData+l.path)
			if err != nil {
				fail(err)
				return
			}
			if b == nil {
				if l.required {
					fail(fmt.Errorf("metadata %s: absent (HTTP 404)", l.path))
				}
				return
			}
			mu.Lock()
			err = l.set(f, b)
			mu.Unlock()
			if err != nil && l.required {
				fail(fmt.Errorf("metadata %s: %w", l.path, err))
			} else if err != nil {
				warn("metadata %s: %v; treated as absent", l.path, err)
			}
		})
	}
	run(func() {
		mac, ipv6, err := macAndIPv6(ctx, src)
		if err != nil {
			fail(err)
			return
		}
		mu.Lock()
		f.MAC, f.IPv6 = mac.value, ipv6.value
		mu.Unlock()
		for _, w := range []string{mac.warning, ipv6.warning} {
			if w != "" {
				warn("%s", w)
			}
		}
	})
	// The tags: their listing is the only listing in the wave, and AWS's
	// emulator takes one listing beside other requests (two at once crash
	// it); each value follows its listing at once.
	run(func() { tagsJob(ctx, src, f, w) })
	run(func() {
		b, err := optional(ctx, src, identityPath)
		if err != nil {
			fail(err)
			return
		}
		if b == nil {
			return
		}
		t, err := parsePendingTime(b)
		if err != nil {
			warn("metadata instance-identity/document: %v; launch time unknown", err)
			return
		}
		mu.Lock()
		f.LaunchTime = t
		mu.Unlock()
	})
	for _, name := range names {
		if name[len(name)-1] == '/' {
			continue
		}
		run(func() {
			b, err := optional(ctx, src, metaData+"block-device-mapping/"+name)
			if err != nil {
				fail(err)
				return
			}
			if b != nil {
				mu.Lock()
				entries[name] = string(b)
				mu.Unlock()
			}
		})
	}
	w.wg.Wait()
	if w.firstErr != nil {
		return nil, w.firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var problems []string
	f.BlockDevices, f.InstanceStores, problems = ParseBlockDevices(entries)
	for _, p := range problems {
		f.Warnings = append(f.Warnings, p+"; left out")
	}
	if f.Region == "" {
		f.Region = regionOf(f.AvailabilityZone)
	}
	return f, nil
}

// wave is the requests in flight on one token: at most cap(sem) at once;
// the first error cancels the rest.
type wave struct {
	f        *Facts
	mu       sync.Mutex
	wg       sync.WaitGroup
	sem      chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	firstErr error
}

func (w *wave) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.firstErr == nil {
		w.firstErr = err
		w.cancel() // the rest cannot save the gathering
	}
}

func (w *wave) warn(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Warnings = append(w.f.Warnings, fmt.Sprintf(format, args...))
}

// run starts fn as soon as a slot is free. A job may start more jobs: the
// wait group counts it until it returns.
func (w *wave) run(fn func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		select {
		case w.sem <- struct{}{}:
		case <-w.ctx.Done():
			return
		}
		defer func() { <-w.sem }()
		fn()
	}()
}

type parsed[T any] struct {
	value   T
	warning string
}

// macAndIPv6 reads the primary MAC, then the IPv6 addresses of that
// interface (the top-level "ipv6" item is not served everywhere).
func macAndIPv6(ctx context.Context, src Getter) (mac parsed[string], ipv6 parsed[netip.Addr], err error) {
	b, err := optional(ctx, src, metaData+"mac")
	if err != nil || b == nil {
		return mac, ipv6, err
	}
	if mac.value, err = parseMAC(b); err != nil {
		mac.warning = fmt.Sprintf("metadata mac: %v; treated as absent", err)
		return mac, ipv6, nil
	}
	p := "network/interfaces/macs/" + mac.value + "/ipv6s"
	b, err = optional(ctx, src, metaData+p)
	if err != nil || b == nil {
		return mac, ipv6, err
	}
	if ipv6.value, err = parseAddr(b, false); err != nil {
		ipv6.warning = fmt.Sprintf("metadata %s: %v; treated as absent", p, err)
	}
	return mac, ipv6, nil
}

// optional reads a path, giving nil without error when it is absent.
func optional(ctx context.Context, src Getter, p string) ([]byte, error) {
	b, err := src.Get(ctx, p)
	if errors.Is(err, imds.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func trimmed(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
