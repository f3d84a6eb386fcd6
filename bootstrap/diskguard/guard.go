// Package diskguard reports how full the root partition and the instance
// store are, on every run, and makes the run "degraded" (exit code 4) past
// disk.warn_percent, naming the largest directories it can find quickly:
// a full root partition takes the whole server down, so monitoring must
// hear about it long before.
package diskguard

import (
	"context"
	"errors"
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/humanize"
	"io"
	"io/fs"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Step is the disk guard step.
type Step struct {
	// ScanLimit bounds the search for large directories; zero means the
	// defaults. A run must not hang on a huge tree.
	ScanLimit Limit
}

// Limit bounds a directory scan.
type Limit struct {
	Entries int
	Time    time.Duration
}

// defaultLimit is quick enough for every run.
var defaultLimit = Limit{Entries: 200_000, Time: 3 * time.Second}

// New returns the disk guard step.
func New() *Step { return &Step{} }

// Name implements step.Step.
func (*Step) Name() string { return "disk" }

// Usage is one filesystem's fill level, as df computes it: used over
// used-plus-available, so the blocks reserved for root count as full.
// It is part of the run's report (status.json, `status --json`).
type Usage struct {
	Path        string    `json:"path"`        // host path as configured
	Total       uint64    `json:"total_bytes"` // bytes
	Used        uint64    `json:"used_bytes"`
	Avail       uint64    `json:"avail_bytes"`
	Percent     int       `json:"used_percent"`
	InodePct    int       `json:"inodes_used_percent"`
	Largest     []DirSize `json:"largest,omitempty"`      // set when past the threshold
	ScanPartial bool      `json:"scan_partial,omitempty"` // the scan hit its bound
}

// DirSize is a directory and the bytes found under it.
type DirSize struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

type plan struct {
	warn   int
	usages []Usage
	skip   []string
}

// Plan implements step.Step: it measures (reading only), so `plan` shows the
// same report as `run`.
func (s *Step) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	lim := s.ScanLimit
	if lim.Entries == 0 {
		lim.Entries = defaultLimit.Entries
	}
	if lim.Time == 0 {
		lim.Time = defaultLimit.Time
	}
	cfg := env.Config.Disk
	p := &plan{warn: cfg.WarnPercent}
	seen := map[uint64]string{}
	for _, path := range cfg.Paths {
		host := env.Root.Path(path)
		var st unix.Stat_t
		if err := unix.Stat(host, &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				p.skip = append(p.skip, path+": does not exist")
				continue
			}
			return nil, fmt.Errorf("disk %s: %w", path, err)
		}
		// /mnt without an instance store is just a directory on /: one
		// report per filesystem.
		if first, ok := seen[st.Dev]; ok {
			p.skip = append(p.skip, fmt.Sprintf("%s: on the same filesystem as %s", path, first))
			continue
		}
		seen[st.Dev] = path
		u, err := measure(host)
		if err != nil {
			return nil, fmt.Errorf("disk %s: %w", path, err)
		}
		u.Path = path
		if u.Percent >= p.warn || u.InodePct >= p.warn {
			u.Largest, u.ScanPartial = largest(ctx, host, env.Root.Rel, lim, 5)
		}
		p.usages = append(p.usages, u)
	}
	return p, nil
}

func measure(p string) (Usage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return Usage{}, fmt.Errorf("statfs: %w", err)
	}
	bs := uint64(st.Bsize)
	u := Usage{Total: st.Blocks * bs, Avail: st.Bavail * bs, Used: (st.Blocks - st.Bfree) * bs}
	u.Percent = percent(st.Blocks-st.Bfree, st.Blocks-st.Bfree+st.Bavail)
	if st.Files > 0 {
		u.InodePct = percent(st.Files-st.Ffree, st.Files)
	}
	return u, nil
}

// percent rounds up, as df does: 84.1 % is reported as 85.
func percent(used, total uint64) int {
	if total == 0 {
		return 0
	}
	return int((used*100 + total - 1) / total)
}

// Line is the usage as plan, status and the run's log show it.
func (u Usage) Line() string {
	s := fmt.Sprintf("%s: %d%% used (%s of %s, %s free), inodes %d%%",
		u.Path, u.Percent, humanize.Bytes(int64(u.Used)), humanize.Bytes(int64(u.Total)), humanize.Bytes(int64(u.Avail)), u.InodePct)
	return s
}

func (u Usage) largestText() string {
	if len(u.Largest) == 0 {
		return ""
	}
	parts := make([]string, len(u.Largest))
	for i, d := range u.Largest {
		parts[i] = fmt.Sprintf("%s %s", d.Path, humanize.Bytes(d.Bytes))
	}
	s := "largest: " + strings.Join(parts, ", ")
	if u.ScanPartial {
		s += " (partial scan)"
	}
	return s
}

func (p *plan) degraded() []string {
	var out []string
	for _, u := range p.usages {
		if u.Percent < p.warn && u.InodePct < p.warn {
			continue
		}
		msg := fmt.Sprintf("%s is %d%% full (threshold %d%%)", u.Path, max(u.Percent, u.InodePct), p.warn)
		if u.InodePct >= p.warn && u.Percent < p.warn {
			msg = fmt.Sprintf("%s has used %d%% of its inodes (threshold %d%%)", u.Path, u.InodePct, p.warn)
		}
		if l := u.largestText(); l != "" {
			msg += "; " + l
		}
		out = append(out, msg)
	}
	return out
}

// Describe implements step.Plan.
func (p *plan) Describe(w io.Writer) {
	for _, u := range p.usages {
		fmt.Fprintln(w, u.Line())
	}
	for _, s := range p.skip {
		fmt.Fprintln(w, s)
	}
	for _, d := range p.degraded() {
		fmt.Fprintln(w, "warning:", d)
	}
}

// Apply implements step.Plan. It changes nothing: the report is its result.
func (p *plan) Apply(context.Context) (step.Result, error) {
	return step.Result{Degraded: p.degraded()}, nil
}

// Usages returns what was measured (for status).
func Usages(sp step.Plan) []Usage {
	if p, ok := sp.(*plan); ok {
		return p.usages
	}
	return nil
}

// Pending implements step.Pending: the guard only reports, it never changes
// anything.
func (p *plan) Pending() bool { return false }
