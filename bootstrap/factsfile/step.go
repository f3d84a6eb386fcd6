package factsfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
	"github.com/ec2boot/ec2boot/bootstrap/diff"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Step writes the facts files. It is step 1 of a run.
type Step struct{}

// NewStep returns the facts step.
func NewStep() *Step { return &Step{} }

// Name implements step.Step.
func (*Step) Name() string { return "facts" }

// file is one file and what it should hold.
type file struct {
	host string // host path, for messages
	path string // under the root
	old  []byte
	new  []byte
	snap *atomicfile.Snapshot
}

type plan struct {
	changes []file
}

// Plan implements step.Step: it renders both files and compares them with
// what is on disk.
func (*Step) Plan(_ context.Context, env *step.Env) (step.Plan, error) {
	if env.Facts == nil {
		return nil, errors.New("no instance facts to write")
	}
	_, collisions := TagVars(env.Facts.Tags)
	for _, w := range collisions {
		env.Log.Warn().Msg(w)
	}
	envData, err := RenderEnv(env.Facts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvPath, err)
	}
	jsonData, err := RenderJSON(env.Facts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", JSONPath, err)
	}
	p := &plan{}
	for _, f := range []file{{host: EnvPath, new: envData}, {host: JSONPath, new: jsonData}} {
		dest, err := env.Root.Dest(f.host)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.host, err)
		}
		f.path = dest.Real
		if dest.Followed() {
			f.host += " -> " + dest.Target
		}
		old, snap, err := atomicfile.Read(f.path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.host, err)
		}
		if snap.Exists && bytes.Equal(old, f.new) {
			continue
		}
		f.old, f.snap = old, snap
		p.changes = append(p.changes, f)
	}
	return p, nil
}

// Describe implements step.Plan: a diff per file to write.
func (p *plan) Describe(w io.Writer) {
	for _, f := range p.changes {
		from := f.host
		if !f.snap.Exists {
			from = "/dev/null"
		}
		io.WriteString(w, diff.Unified(from, f.host, f.old, f.new))
	}
}

// Apply implements step.Plan. A file someone changed since Plan read it
// is still replaced: these files are ours alone, under /run.
func (p *plan) Apply(context.Context) (step.Result, error) {
	var res step.Result
	var errs []error
	for _, f := range p.changes {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			errs = append(errs, fmt.Errorf("create %s: %w", filepath.Dir(f.host), err))
			continue
		}
		opt := atomicfile.Defaults()
		opt.Mode = 0o644
		out, err := atomicfile.Write(f.path, f.new, opt)
		if err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", f.host, err))
			continue
		}
		if out == atomicfile.Written {
			res.Changed = append(res.Changed, "wrote "+f.host)
		}
	}
	return res, errors.Join(errs...)
}
