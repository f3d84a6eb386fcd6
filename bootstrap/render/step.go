package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/diff"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// StateName is the state file holding actions still to be run.
const StateName = "render"

// StagedArg in a check command's arguments stands for the staged file.
const StagedArg = "{{staged}}"

// PeerSource gives the step the resolved peers of the run env belongs to.
// The run passes the source it shares with the hosts step, so that both see
// the same set, resolved once.
type PeerSource func(ctx context.Context, env *step.Env) (*peers.Set, error)

// Step renders the configured templates.
type Step struct {
	units Units
	peers PeerSource
}

// New returns the render step, taking peers from src and acting on systemd
// units through systemctl.
func New(src PeerSource) step.Step { return &Step{units: &Systemd{}, peers: src} }

// NewWithUnits returns the render step acting on units through u.
func NewWithUnits(u Units, src PeerSource) step.Step { return &Step{units: u, peers: src} }

// Name implements step.Step.
func (*Step) Name() string { return "render" }

// file is one template's planned outcome.
type file struct {
	tmpl    config.Template
	display string // destination as configured
	target  string // host path really written, when a link leads elsewhere
	path    string // under the root
	source  string
	out     []byte
	opts    atomicfile.Options
	preview atomicfile.Preview
	err     error // rendering or reading failed: the old file is kept
}

// written names the file for the log: the link's target is the file
// really written.
func (f *file) written() string {
	if f.target != "" {
		return f.display + " -> " + f.target
	}
	return f.display
}

func (f *file) changes() bool { return f.err == nil && f.preview.Outcome.Changed() }

// newContent is a change that needs the file's actions; repairing a mode or
// owner does not.
func (f *file) newContent() bool { return f.changes() && f.preview.Outcome != atomicfile.MetadataFixed }

type plan struct {
	s       *Step
	env     *step.Env
	set     *peers.Set
	files   []*file
	pending pending
	actions []Action // what Apply would run if every write succeeds
}

// Plan implements step.Step.
func (s *Step) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	p := &plan{s: s, env: env}
	if env.State != nil {
		if _, _, err := env.State.Load(StateName, &p.pending); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
	}
	if len(env.Config.Templates) == 0 {
		return p, nil
	}
	if env.Facts == nil {
		return nil, errors.New("no instance facts: templates not rendered, files left unchanged")
	}
	src := s.peers
	if src == nil { // resolve on our own, without the hosts block's fallback
		src = func(ctx context.Context, env *step.Env) (*peers.Set, error) {
			return peers.Lazy(peers.Input{Config: env.Config, Facts: env.Facts, State: env.State, Clock: env.Clock})(ctx)
		}
	}
	set, err := src(ctx, env)
	if err != nil {
		return nil, err
	}
	p.set = set
	data := NewData(env.Facts, set, env.Config.Vars)
	for _, t := range env.Config.Templates {
		p.files = append(p.files, p.prepare(ctx, t, data))
	}
	// --force runs every action, changed or not.
	p.actions = p.plannedActions(func(f *file) bool { return f.newContent() || env.Force })
	return p, nil
}

func (p *plan) prepare(ctx context.Context, t config.Template, data Data) *file {
	root := p.env.Root
	f := &file{tmpl: t, display: t.Destination, source: t.SourcePath()}
	dest, err := root.Dest(t.Destination)
	if err != nil {
		f.err = err
		return f
	}
	f.path = dest.Real
	if dest.Followed() {
		f.target = dest.Target
	}
	var text []byte
	for _, src := range t.SourcePaths() {
		if text, err = os.ReadFile(root.Path(src)); !errors.Is(err, fs.ErrNotExist) {
			f.source = src
			break
		}
	}
	if err != nil {
		f.err = fmt.Errorf("template %s: %w", strings.Join(t.SourcePaths(), " or "), err)
		return f
	}
	lim := Limits{Timeout: t.RenderTimeout.Duration, MaxSize: int64(t.MaxSize)}
	if f.out, err = Execute(ctx, f.source, string(text), data, lim); err != nil {
		f.err = err
		return f
	}
	f.opts = atomicfile.Defaults()
	if t.Mode != "" {
		f.opts.Mode = fs.FileMode(t.FileMode())
	}
	if f.opts.UID, err = lookupID(root, "passwd", t.Owner); err != nil {
		f.err = fmt.Errorf("%s: owner: %w", t.Destination, err)
		return f
	}
	if f.opts.GID, err = lookupID(root, "group", t.Group); err != nil {
		f.err = fmt.Errorf("%s: group: %w", t.Destination, err)
		return f
	}
	if f.preview, err = atomicfile.Inspect(f.path, f.out, f.opts); err != nil {
		f.err = err
	}
	return f
}

func actionsOf(t config.Template) []Action {
	var out []Action
	for _, u := range t.Reload {
		out = append(out, Action{Kind: "reload", Unit: u})
	}
	for _, u := range t.Restart {
		out = append(out, Action{Kind: "restart", Unit: u})
	}
	if len(t.Command) > 0 {
		out = append(out, Action{Kind: "command", Argv: t.Command, Timeout: t.Timeout.Duration})
	}
	return out
}

// plannedActions lists, in template order, the actions of the files that
// changed plus every action still pending from an earlier run that some
// template still declares; deduplicated.
func (p *plan) plannedActions(changed func(*file) bool) []Action {
	var list []Action
	for _, f := range p.files {
		for _, a := range actionsOf(f.tmpl) {
			if changed(f) || p.pending.has(a) {
				list = append(list, a)
			}
		}
	}
	return dedupe(list)
}

// Describe implements step.Plan.
func (p *plan) Describe(w io.Writer) {
	for _, f := range p.files {
		switch {
		case f.err != nil:
			fmt.Fprintf(w, "  %s: cannot render, the file is kept: %v\n", f.display, f.err)
		case !f.changes():
		case f.preview.Outcome == atomicfile.MetadataFixed:
			fmt.Fprintf(w, "  %s: %s\n", f.display, metaChange(f.preview))
		default:
			if f.preview.InPlace {
				fmt.Fprintf(w, "  %s is a mount point: it will be rewritten in place (not atomically)\n", f.display)
			}
			if m := metaChange(f.preview); f.preview.Exists && m != "" {
				fmt.Fprintf(w, "  %s: %s\n", f.display, m)
			}
			old := f.display
			if !f.preview.Exists {
				old = "/dev/null"
			}
			io.WriteString(w, indent(diff.Unified(old, f.display+" (planned)", f.preview.Old, f.out)))
			if len(f.tmpl.Check) > 0 {
				fmt.Fprintf(w, "  check before replacing: %s\n", quoteArgv(f.tmpl.Check))
			}
		}
	}
	for _, a := range p.actions {
		note := ""
		if p.pending.has(a) {
			note = " (retry: it failed or was interrupted on an earlier run)"
		}
		fmt.Fprintf(w, "  would %s%s\n", a, note)
	}
	if p.set != nil && !p.env.Config.Hosts.IsEnabled() {
		p.set.Describe(w) // otherwise the hosts step already showed them
	}
	if p.set != nil && p.set.Refused() != nil && slices.ContainsFunc(p.files, (*file).changes) {
		fmt.Fprintf(w, "  REFUSED: no template is written while the peers are refused\n")
	}
}

func metaChange(pv atomicfile.Preview) string {
	var parts []string
	if pv.OldMode != pv.NewMode {
		parts = append(parts, fmt.Sprintf("mode %04o -> %04o", pv.OldMode, pv.NewMode))
	}
	if pv.NewUID >= 0 && pv.OldUID != pv.NewUID || pv.NewGID >= 0 && pv.OldGID != pv.NewGID {
		parts = append(parts, fmt.Sprintf("owner %d:%d -> %d:%d", pv.OldUID, pv.OldGID, pv.NewUID, pv.NewGID))
	}
	return strings.Join(parts, ", ")
}

// Apply implements step.Plan.
func (p *plan) Apply(ctx context.Context) (step.Result, error) {
	var res step.Result
	var errs []error
	for _, f := range p.files {
		if f.err != nil {
			errs = append(errs, fmt.Errorf("%s kept: %w", f.display, f.err))
		}
	}
	if p.set != nil {
		if !p.env.Config.Hosts.IsEnabled() { // otherwise the hosts step reported them
			res.Degraded = append(res.Degraded, p.set.Degraded()...)
			for _, w := range p.set.Warnings {
				p.env.Log.Warn().Msg(w)
			}
		}
		if err := p.remember(); err != nil {
			errs = append(errs, err)
		}
	}
	refused := p.set != nil && p.set.Refused() != nil
	if refused && slices.ContainsFunc(p.files, (*file).changes) {
		errs = append(errs, fmt.Errorf("templates left unchanged: %w", p.set.Refused()))
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		// Interrupted before the first write: start nothing, queue nothing.
		return res, errors.Join(append(errs, fmt.Errorf("render: interrupted before writing: %w", context.Cause(ctx)))...)
	}
	// Record the intent before touching any file: if we die after a rename
	// and before its reload, the next run still reloads.
	intent := pending{Actions: p.pending.Actions}
	for _, a := range p.actions {
		if !intent.has(a) {
			intent.Actions = append(intent.Actions, a)
		}
	}
	if !refused && len(intent.Actions) != len(p.pending.Actions) {
		if err := p.savePending(intent); err != nil {
			return res, errors.Join(append(errs, err)...)
		}
	}
	written := map[*file]bool{}
	if !refused {
		for _, f := range p.files {
			if !f.changes() {
				continue
			}
			if errors.Is(ctx.Err(), context.Canceled) {
				// No new write after an interruption; the one before it
				// was completed by the atomic rename.
				break
			}
			out, err := p.write(ctx, f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if out.Changed() {
				written[f] = out != atomicfile.MetadataFixed
				res.Changed = append(res.Changed, fmt.Sprintf("%s: %s", f.written(), out))
			}
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// No action runs after an interruption. The intent saved above
		// names every action a written file needs, so the next run does
		// them; nothing is recorded as failed.
		return res, errors.Join(append(errs, fmt.Errorf("render: interrupted: actions left for the next run: %w", context.Cause(ctx)))...)
	}
	// Run what the written files need and what earlier runs left pending.
	var failed []Action
	interrupted := false
	for _, a := range p.plannedActions(func(f *file) bool { return written[f] || p.env.Force }) {
		if errors.Is(ctx.Err(), context.Canceled) {
			// Left pending for the next run, not failed.
			failed, interrupted = append(failed, a), true
			continue
		}
		if err := run(ctx, a, p.s.units); err != nil {
			failed = append(failed, a)
			if errors.Is(ctx.Err(), context.Canceled) {
				interrupted = true
				continue
			}
			errs = append(errs, fmt.Errorf("%s failed (retried on the next run): %w", a, err))
			continue
		}
		res.Changed = append(res.Changed, "done: "+a.String())
	}
	if err := p.savePending(pending{Actions: failed}); err != nil {
		errs = append(errs, err)
	}
	if interrupted {
		errs = append(errs, fmt.Errorf("render: interrupted: actions left for the next run: %w", context.Cause(ctx)))
	}
	return res, errors.Join(errs...)
}

func (p *plan) write(ctx context.Context, f *file) (atomicfile.Outcome, error) {
	opts := f.opts
	if len(f.tmpl.Check) > 0 {
		opts.Check = func(staged string) error {
			argv := make([]string, len(f.tmpl.Check))
			for i, a := range f.tmpl.Check {
				argv[i] = strings.ReplaceAll(a, StagedArg, staged)
			}
			return RunCommand(ctx, argv, f.tmpl.Timeout.Duration)
		}
	}
	// A new file may need its directory, as /etc/app/ on a fresh image:
	// create it 0755, as the packages that later own it would.
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return atomicfile.Unchanged, fmt.Errorf("%s not written: %w", f.display, err)
	}
	out, err := atomicfile.Write(f.path, f.out, opts)
	if err != nil {
		return out, fmt.Errorf("%s kept: %w", f.display, err)
	}
	return out, nil
}

func (p *plan) savePending(v pending) error {
	if p.env.State == nil || p.env.State.ReadOnly() || p.env.DryRun {
		return nil
	}
	if len(v.Actions) == 0 {
		var old pending
		if found, _, _ := p.env.State.Load(StateName, &old); !found {
			return nil // nothing pending and no file: write nothing
		}
	}
	if err := p.env.State.Save(StateName, v, p.env.Clock.Now()); err != nil {
		return fmt.Errorf("render: remember pending actions: %w", err)
	}
	return nil
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
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	return b.String()
}
