// Package relocate puts what grows (logs, temp dirs, configured application
// directories) on the instance store, the fast local disk that EC2 attaches
// to some instance types, and leaves everything alone where there is none.
//
// The instance store is recognised by what it is (its NVMe model, or on
// Xen-era types the metadata's ephemeral mapping), never by device name. Each
// path is copied with everything that matters (owner, mode, times, ACLs and
// other xattrs, links, holes), verified by checksum, and bind-mounted over
// the original, which stays underneath as the rollback. A marker on the
// instance store tells a reboot (data still there: just mount again) from a
// stop/start (disk erased: recreate the directory skeleton).
package relocate

import (
	"context"
	"errors"
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/cloudinit"
	"io"
	"path/filepath"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Step is the relocate step.
type Step struct {
	// hook, when set (tests only), is called at each stage of a path's
	// relocation; an error stops there, as a crash would.
	hook func(stage, path string) error
}

// New returns the relocate step.
func New() *Step { return &Step{} }

// Name implements step.Step.
func (*Step) Name() string { return "relocate" }

// Early runs the relocation from the early boot unit: from the cached config
// and facts, before journald flushes to /var/log and before syslog starts,
// so that no writer has to be moved afterwards. It needs no network.
func Early(ctx context.Context, env *step.Env) (step.Result, error) {
	p, err := New().Plan(ctx, env)
	if err != nil {
		return step.Result{}, err
	}
	if env.DryRun {
		return step.Result{}, nil
	}
	return p.Apply(ctx)
}

// stateName is the root-disk state of which paths were ever relocated on
// this instance: a blank instance store with this record means a stop/start
// (seed a skeleton), without it a first relocation (copy everything).
const stateName = "relocate"

type rootState struct {
	Paths map[string]bool `json:"paths"`
	// Writers is set while the last scan found processes writing to
	// hidden originals: later runs look again until they are gone.
	Writers bool `json:"writers,omitempty"`
}

type plan struct {
	s         *Step
	env       *step.Env
	cfg       config.Relocate
	mp        string // mount point under root
	ephemeral []string
	disabled  bool
	store     storeDecision
	paths     []pathPlan
	// marker is what the instance store said at plan time (nil: none, or
	// not readable until it is mounted).
	marker *Marker
	// states is what Apply left each path in (PathStates).
	states []PathState
}

// Plan implements step.Step. It reads sysfs, mountinfo, the marker and the
// trees to copy; it changes nothing.
func (s *Step) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	p := &plan{s: s, env: env, cfg: env.Config.Relocate, mp: env.Root.Path(env.Config.Relocate.MountPoint)}
	if env.Facts != nil {
		p.ephemeral = env.Facts.InstanceStores
	}
	if !p.cfg.IsEnabled() {
		p.disabled = true
		return p, nil
	}
	tab, err := mountinfo.Self()
	if err != nil {
		return nil, err
	}
	p.store = decideStore(ctx, env.Root, p.mp, p.cfg.Filesystem, p.cfg.Format, p.ephemeral, tab)
	if p.store.action == storeNone {
		return p, nil
	}
	// cloud-init's cc_mounts would mount ephemeral0 at /mnt itself, in the
	// way of the mount, format and bind mounts planned here.
	for _, w := range cloudinit.MountWarning(env.Root, p.cfg.MountPoint) {
		p.store.notes = append(p.store.notes, "warning: "+w)
	}
	var ms *mountinfo.Mount
	if p.store.action == storeReady {
		if same, err := sameDisk(p.mp, env.Root.Path("/")); err != nil || same {
			p.store = storeDecision{action: storeNone,
				reason: fmt.Sprintf("%s is on the root disk: nothing to relocate", env.Root.Rel(p.mp))}
			return p, nil
		}
		ms = &p.store.mount
		if p.marker, err = readMarker(p.base()); err != nil {
			return nil, err
		}
	}
	rs := p.loadState()
	for _, path := range p.cfg.Paths {
		p.paths = append(p.paths, p.decidePath(path, tab, ms, p.marker, rs, p.store.action != storeMount))
	}
	return p, nil
}

// base is <mount point>/ec2boot, where relocated trees live.
func (p *plan) base() string { return filepath.Join(p.mp, "ec2boot") }

func (p *plan) loadState() rootState {
	var rs rootState
	if p.env.State != nil {
		if found, _, err := p.env.State.Load(stateName, &rs); err != nil || !found {
			rs = rootState{}
		}
	}
	if rs.Paths == nil {
		rs.Paths = map[string]bool{}
	}
	return rs
}

func (p *plan) instanceID() string {
	if p.env.Facts != nil && p.env.Facts.InstanceID != "" {
		return p.env.Facts.InstanceID
	}
	if p.env.State != nil {
		return p.env.State.InstanceID()
	}
	return ""
}

// Describe implements step.Plan.
func (p *plan) Describe(w io.Writer) {
	if p.disabled {
		fmt.Fprintln(w, "relocation is disabled (relocate.enabled = false)")
		return
	}
	for _, n := range p.store.notes {
		fmt.Fprintln(w, "note:", n)
	}
	switch p.store.action {
	case storeNone:
		fmt.Fprintln(w, p.store.reason)
		return
	case storeReady:
		fmt.Fprintf(w, "instance store %s (%s) is mounted at %s\n", p.store.dev.Name, p.store.dev.Why, p.rel(p.mp))
	case storeMount:
		fmt.Fprintf(w, "mount instance store %s (%s, %s) at %s\n", p.store.dev.Name, p.store.dev.Why, p.store.fstype, p.rel(p.mp))
	case storeFormat:
		fmt.Fprintf(w, "mkfs.%s -L %s %s: instance store %s (%s) is blank\n", p.store.fstype, label,
			p.rel(p.store.dev.Path(p.env.Root)), p.store.dev.Name, p.store.dev.Why)
		fmt.Fprintf(w, "mount %s at %s\n", p.store.dev.Name, p.rel(p.mp))
	}
	for _, pp := range p.paths {
		fmt.Fprintf(w, "%s: %s\n", pp.path, pp.describe(p))
	}
	if p.cfg.Reclaim {
		fmt.Fprintln(w, "reclaim: originals identical to their verified copy are deleted from the root disk after the bind mount")
	}
}

func (p *plan) rel(s string) string { return p.env.Root.Rel(s) }

// Apply implements step.Plan. What it changed, what is degraded and what
// failed go into the result and the error only: the run logs each of them
// once. The step itself logs only what those do not carry (notes, reasons
// for doing nothing).
func (p *plan) Apply(ctx context.Context) (step.Result, error) {
	var res step.Result
	if p.disabled {
		return res, nil
	}
	log := p.env.Log
	for _, n := range p.store.notes {
		log.Info().Msg(n)
	}
	switch p.store.action {
	case storeNone:
		if p.store.warn {
			res.Degraded = append(res.Degraded, p.store.reason)
		} else {
			log.Info().Msg(p.store.reason)
		}
		return res, nil
	case storeMount, storeFormat:
		if errors.Is(ctx.Err(), context.Canceled) {
			// Never start formatting or mounting after an interruption.
			return res, fmt.Errorf("instance store: not prepared: %w", context.Cause(ctx))
		}
		did, err := prepareStore(ctx, p.env.Root, p.mp, &p.store, p.ephemeral)
		if err != nil {
			return res, fmt.Errorf("instance store: %w", err)
		}
		res.Changed = append(res.Changed, did)
	}
	if same, err := sameDisk(p.mp, p.env.Root.Path("/")); err != nil {
		return res, fmt.Errorf("instance store: %w", err)
	} else if same {
		return res, fmt.Errorf("instance store: %s is on the root disk; refusing to relocate onto it", p.rel(p.mp))
	}
	r := &run{plan: p, res: &res}
	if err := r.start(); err != nil {
		return res, err
	}
	var errs []error
	for _, path := range p.cfg.Paths {
		if errors.Is(ctx.Err(), context.Canceled) {
			// No path is started after an interruption; the marker says
			// which are done, and the next run takes up the rest.
			err := fmt.Errorf("relocate %s: not started: %w", path, context.Cause(ctx))
			errs = append(errs, err)
			r.recordState(path, err)
			continue
		}
		err := r.relocate(ctx, path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w; the original stays in use", err))
		}
		r.recordState(path, err)
	}
	r.handleWriters(ctx)
	if err := r.finish(); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// isTempDir reports the paths that must be world-writable and sticky.
func isTempDir(p string) bool { return p == "/tmp" || p == "/var/tmp" }

// stagingName is where a path is copied before verification.
func stagingName(p string) string {
	return strings.ReplaceAll(strings.Trim(p, "/"), "/", "%")
}
