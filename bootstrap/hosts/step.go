package hosts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
	"github.com/ec2boot/ec2boot/bootstrap/diff"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// PeerSource gives a step the resolved peers of the run env belongs to.
type PeerSource func(ctx context.Context, env *step.Env) (*peers.Set, error)

// Step manages the block in /etc/hosts.
type Step struct{ peers PeerSource }

// New returns the hosts step, taking its peers from src: the run passes the
// SharedPeers it also gives the render step, so peers are resolved once.
func New(src PeerSource) step.Step { return Step{peers: src} }

// Name implements step.Step.
func (Step) Name() string { return "hosts" }

// SharedPeers returns a peer resolution for the steps of a run to share:
// the first call for an env resolves, with the current managed block as the
// fallback for peers the state does not know; later calls for the same env
// return the same set.
func SharedPeers() func(ctx context.Context, env *step.Env) (*peers.Set, error) {
	// A run hands each step its own copy of the env (with the step's
	// logger), so a run is known by what the copies share: the loaded
	// configuration, facts and state.
	type runKey struct {
		cfg   any
		facts any
		state any
	}
	var mu sync.Mutex
	var last runKey
	var get func(context.Context) (*peers.Set, error)
	return func(ctx context.Context, env *step.Env) (*peers.Set, error) {
		mu.Lock()
		if k := (runKey{env.Config, env.Facts, env.State}); k != last || get == nil {
			last, get = k, lazyPeers(env)
		}
		g := get
		mu.Unlock()
		return g(ctx)
	}
}

func lazyPeers(env *step.Env) func(context.Context) (*peers.Set, error) {
	return peers.Lazy(peers.Input{
		Config: env.Config, Facts: env.Facts, State: env.State, Clock: env.Clock, Force: env.Force,
		Fallback: func() (map[string][]netip.Addr, time.Time) {
			// Only a fallback: a hosts file that cannot be resolved or
			// read (an untrusted link) gives none.
			dest, err := env.Root.Dest(env.Config.Hosts.Path)
			if err != nil {
				return nil, time.Time{}
			}
			path := dest.Real
			data, _, err := atomicfile.Read(path)
			if err != nil {
				return nil, time.Time{}
			}
			f, err := Parse(data)
			if err != nil {
				return nil, time.Time{}
			}
			var when time.Time
			if st, err := os.Stat(path); err == nil {
				when = st.ModTime()
			}
			return Known(f), when
		},
	})
}

// Plan implements step.Step.
func (s Step) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	cfg := env.Config.Hosts
	if !cfg.IsEnabled() {
		return &plan{}, nil
	}
	if env.Facts == nil {
		return nil, fmt.Errorf("no instance facts: %s left unchanged", cfg.Path)
	}
	src := s.peers
	if src == nil {
		src = SharedPeers()
	}
	set, err := src(ctx, env)
	if err != nil {
		return nil, err
	}
	dest, err := env.Root.Dest(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("hosts file %s left unchanged: %w", cfg.Path, err)
	}
	p := &plan{env: env, set: set, display: cfg.Path, path: dest.Real}
	if dest.Followed() {
		// Messages name the file really written.
		p.display = cfg.Path + " -> " + dest.Target
	}
	p.warnings = append(p.warnings, CloudInitWarnings(env.Root)...)
	if err := p.compute(); err != nil {
		return nil, err
	}
	return p, nil
}

type plan struct {
	env      *step.Env
	set      *peers.Set
	display  string // the host path, for messages
	path     string // under env.Root
	old, new []byte
	snap     *atomicfile.Snapshot
	preview  atomicfile.Preview
	warnings []string
	degraded []string
}

// compute reads the file and works out its new content.
func (p *plan) compute() error {
	data, snap, err := atomicfile.Read(p.path)
	if err != nil {
		return fmt.Errorf("hosts file %s: %w", p.display, err)
	}
	f, err := Parse(data)
	if err != nil {
		return fmt.Errorf("hosts file %s: %w; file left unchanged", p.display, err)
	}
	p.old, p.snap, p.new = data, snap, nil
	p.degraded = nil
	if f.HandEdited() {
		first, last := f.BlockLines()
		p.degraded = append(p.degraded, fmt.Sprintf("%s: the managed block (lines %d-%d) was edited by hand (hash mismatch); the edit is overwritten", p.display, first, last))
	}
	body, rejected := BuildBody(p.set, p.env.Config.Hosts.IncludeSelf())
	for _, r := range rejected {
		p.degraded = append(p.degraded, fmt.Sprintf("%s: %s", p.display, r))
	}
	if body == nil && !f.HasBlock() {
		return nil // nothing to manage and no block to empty
	}
	out := f.Compose(body)
	nf, err := Parse(out)
	if err != nil {
		return fmt.Errorf("hosts file %s: composed an unparsable file: %w", p.display, err)
	}
	for _, c := range Conflicts(nf) {
		p.degraded = append(p.degraded, fmt.Sprintf("%s: %s", p.display, c))
	}
	p.new = out
	p.preview, err = atomicfile.Inspect(p.path, out, writeOptions(nil))
	return err
}

func writeOptions(snap *atomicfile.Snapshot) atomicfile.Options {
	o := atomicfile.Defaults()
	o.Expect = snap
	return o
}

func (p *plan) changes() bool { return p.new != nil && p.preview.Outcome.Changed() }

// Describe implements step.Plan.
func (p *plan) Describe(w io.Writer) {
	if p.env == nil {
		return
	}
	for _, m := range append(append([]string{}, p.warnings...), p.degraded...) {
		fmt.Fprintf(w, "  warning: %s\n", m)
	}
	for _, m := range p.set.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", m)
	}
	p.set.Describe(w)
	if !p.changes() {
		return
	}
	if p.preview.InPlace {
		fmt.Fprintf(w, "  %s is a mount point: it will be rewritten in place (not atomically)\n", p.display)
	}
	if p.preview.Outcome == atomicfile.MetadataFixed {
		fmt.Fprintf(w, "  %s: mode %04o -> %04o\n", p.display, p.preview.OldMode, p.preview.NewMode)
		return
	}
	old := p.display
	if !p.preview.Exists {
		old = "/dev/null"
	}
	io.WriteString(w, indent(diff.Unified(old, p.display+" (planned)", p.old, p.new)))
}

// Apply implements step.Plan.
func (p *plan) Apply(ctx context.Context) (step.Result, error) {
	var res step.Result
	if p.env == nil {
		return res, nil
	}
	res.Degraded = append(append(res.Degraded, p.degraded...), p.set.Degraded()...)
	for _, w := range append(append([]string{}, p.warnings...), p.set.Warnings...) {
		p.env.Log.Warn().Msg(w)
	}
	if !p.changes() {
		return res, p.remember()
	}
	if err := p.set.Refused(); err != nil {
		return res, errors.Join(fmt.Errorf("%s left unchanged: %w", p.display, err), p.remember())
	}
	out, err := atomicfile.Write(p.path, p.new, writeOptions(p.snap))
	if errors.Is(err, atomicfile.ErrChangedUnderneath) {
		// Someone (cloud-init, an admin) wrote the file since we read it:
		// start again from their version, once.
		p.env.Log.Warn().Str("path", p.display).Msg("changed by someone else while planning; re-reading it")
		if err := p.compute(); err != nil {
			return res, err
		}
		if !p.changes() {
			return res, p.remember()
		}
		out, err = atomicfile.Write(p.path, p.new, writeOptions(p.snap))
	}
	if err != nil {
		return res, fmt.Errorf("hosts file: %w", err)
	}
	switch out {
	case atomicfile.WrittenInPlace:
		res.Changed = append(res.Changed, fmt.Sprintf("updated the managed block in %s (in place: it is a mount point)", p.display))
	case atomicfile.MetadataFixed:
		res.Changed = append(res.Changed, fmt.Sprintf("repaired the mode of %s", p.display))
	case atomicfile.Written:
		res.Changed = append(res.Changed, fmt.Sprintf("updated the managed block in %s", p.display))
	}
	return res, p.remember()
}

func (p *plan) remember() error {
	if p.env.State == nil || p.env.State.ReadOnly() || p.env.DryRun {
		return nil
	}
	return p.set.Remember(p.env.State)
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	out := make([]byte, 0, len(s)+len(s)/8)
	start := true
	for i := 0; i < len(s); i++ {
		if start {
			out = append(out, "    "...)
		}
		out = append(out, s[i])
		start = s[i] == '\n'
	}
	return string(out)
}

// PeerSummary is the peers the plan was made from, per role (for status
// and metrics); nil when the step is off.
func PeerSummary(sp step.Plan) []peers.RoleSummary {
	if p, ok := sp.(*plan); ok && p.set != nil {
		return p.set.Summary()
	}
	return nil
}
