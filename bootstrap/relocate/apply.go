package relocate

import (
	"context"
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/humanize"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// run is one Apply: it re-reads mountinfo and the marker before each path,
// so that a stale plan or a run killed half-way converges.
type run struct {
	*plan
	res    *step.Result
	marker *Marker
	rs     rootState
	// relinquished is set once journald was told to leave /var: it must be
	// told to flush to the new /var/log at the end.
	relinquished bool
	// mounted is set once this run bind-mounted a path.
	mounted bool
}

func (r *run) start() error {
	m, err := readMarker(r.base())
	if err != nil {
		return fmt.Errorf("instance store: %w", err)
	}
	id := r.instanceID()
	if m != nil && m.InstanceID != "" && id != "" && m.InstanceID != id {
		return fmt.Errorf("instance store: %s holds ec2boot data of instance %s, not %s: not touching it",
			r.rel(markerPath(r.base())), m.InstanceID, id)
	}
	if m == nil {
		m = &Marker{InstanceID: id, Paths: map[string]MarkerEntry{}}
	}
	r.marker = m
	r.rs = r.loadState()
	return nil
}

func (r *run) finish() error { return nil }

func (r *run) storeMount(tab mountinfo.Table) (mountinfo.Mount, error) {
	m, ok := tab.Top(r.mp)
	if !ok {
		return mountinfo.Mount{}, fmt.Errorf("instance store: %s is not mounted", r.rel(r.mp))
	}
	return m, nil
}

func (r *run) stage(stage, path string) error {
	if r.s.hook == nil {
		return nil
	}
	return r.s.hook(stage, path)
}

func (r *run) setMarker(path string, e MarkerEntry) error {
	if old, ok := r.marker.Paths[path]; ok && old == e {
		return nil
	}
	r.marker.Paths[path] = e
	return writeMarker(r.base(), r.marker)
}

// relocate handles one path. Whatever fails, the original stays mounted
// where it was and in use; the error names the path.
func (r *run) relocate(ctx context.Context, path string) error {
	tab, err := mountinfo.Self()
	if err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	sm, err := r.storeMount(tab)
	if err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	pp := r.decidePath(path, tab, &sm, r.marker, r.rs, true)
	orig := r.env.Root.Lpath(path)
	target := filepath.Join(r.base(), path)
	log := r.env.Log.With().Str("path", path).Logger()
	switch pp.kind {
	case pathSkip:
		log.Info().Msgf("%s: %s", path, pp.reason)
		return nil
	case pathError:
		return fmt.Errorf("relocate %s: %s", path, pp.reason)
	case pathBound:
		e := r.marker.Paths[path]
		if e.State != stateBound {
			// Killed between the mount and the marker: record it now.
			e.State = stateBound
			if e.Seed == "" {
				e.Seed = "copy"
			}
			if err := r.setMarker(path, e); err != nil {
				return fmt.Errorf("relocate %s: %w", path, err)
			}
			r.res.Changed = append(r.res.Changed, fmt.Sprintf("%s: recorded the existing bind mount in the marker", path))
		}
		if err := r.remember(path); err != nil {
			return err
		}
		return r.maybeReclaim(path)
	case pathRestore:
		if err := r.bind(path, target, orig); err != nil {
			return err
		}
		msg := fmt.Sprintf("%s: bind-mounted %s again (reboot: the instance store kept its data)", path, r.rel(target))
		r.res.Changed = append(r.res.Changed, msg)
		return r.maybeReclaim(path)
	}
	skeleton := pp.kind == pathSkeleton
	if err := r.stage("start", path); err != nil {
		return err
	}
	if !skeleton {
		r.quiesce(ctx, orig)
		if err := checkSpace(r.mp, pp.bytes, pp.inodes); err != nil {
			return fmt.Errorf("relocate %s: %w", path, err)
		}
	}
	if err := r.stage("preflight", path); err != nil {
		return err
	}
	staging := filepath.Join(r.base(), ".staging", stagingName(path))
	n, err := r.copyVerified(path, orig, staging, skeleton)
	if err != nil {
		os.RemoveAll(staging) // our own partial copy; the original is untouched
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	if isTempDir(path) {
		if err := unix.Chmod(staging, 0o1777); err != nil {
			os.RemoveAll(staging)
			return fmt.Errorf("relocate %s: %w", path, err)
		}
	}
	if err := r.stage("verified", path); err != nil {
		return err
	}
	// A leftover target was never bound (the marker says so): an
	// interrupted earlier copy of ours.
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("relocate %s: remove unfinished copy %s: %w", path, r.rel(target), err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	if err := os.Rename(staging, target); err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	seed := "copy"
	if skeleton {
		seed = "skeleton"
	}
	if err := r.setMarker(path, MarkerEntry{State: stateCopied, Seed: seed}); err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	if err := r.stage("copied", path); err != nil {
		return err
	}
	if err := r.bind(path, target, orig); err != nil {
		return err
	}
	var msg string
	if skeleton {
		msg = fmt.Sprintf("%s: the instance store was erased (stop/start): recreated %d directories in %s and bind-mounted it; "+
			"what was kept there before is gone", path, n.dirs, r.rel(target))
		if !r.cfg.Reclaim {
			msg += " (the root disk keeps what it had at the first relocation, hidden under the mount)"
		}
	} else {
		msg = fmt.Sprintf("%s: copied %d directories and %d files (%s), verified, bind-mounted from %s",
			path, n.dirs, n.files, humanize.Bytes(n.bytes), r.rel(target))
	}
	r.res.Changed = append(r.res.Changed, msg)
	if err := r.stage("bound", path); err != nil {
		return err
	}
	if skeleton {
		return nil
	}
	return r.maybeReclaim(path)
}

// bind mounts target over orig and records it.
func (r *run) bind(path, target, orig string) error {
	if err := hostfs.MountOnto(target, orig, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("relocate %s: bind mount %s over it: %w", path, r.rel(target), err)
	}
	r.mounted = true
	e := r.marker.Paths[path]
	e.State = stateBound
	if e.Seed == "" {
		e.Seed = "copy"
	}
	if err := r.setMarker(path, e); err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	return r.remember(path)
}

// remember records on the root disk that path was relocated on this
// instance, which is how a later blank instance store is recognised as a
// stop/start rather than a first boot.
func (r *run) remember(path string) error {
	if r.rs.Paths[path] || r.env.State == nil || r.env.State.ReadOnly() {
		return nil
	}
	r.rs.Paths[path] = true
	if err := r.env.State.Save(stateName, r.rs, r.env.Clock.Now()); err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	return nil
}

// copyVerified copies orig to staging and compares the two trees entry by
// entry with checksums. A mismatch gets one more try (a file written during
// the copy). After that, differences are accepted only in files a process
// holds open for writing (a live log: what it writes after the copy stays in
// the hidden original until it reopens, and handleWriters reports or fixes
// that); any other difference is an error listing them.
func (r *run) copyVerified(path, orig, staging string, dirsOnly bool) (*copier, error) {
	if err := os.MkdirAll(filepath.Dir(staging), 0o700); err != nil {
		return nil, err
	}
	var diffs map[string]string
	var c *copier
	for attempt := 0; attempt < 2; attempt++ {
		if err := os.RemoveAll(staging); err != nil {
			return nil, fmt.Errorf("remove stale copy %s: %w", r.rel(staging), err)
		}
		c = newCopier(dirsOnly)
		if err := c.copyTree(orig, staging); err != nil {
			return nil, fmt.Errorf("copy to %s: %w", r.rel(staging), err)
		}
		if err := syncfs(staging); err != nil {
			return nil, fmt.Errorf("copy to %s: %w", r.rel(staging), err)
		}
		if err := r.stage("verify", path); err != nil {
			return nil, err
		}
		o := manifestOpts{dirsOnly: dirsOnly}
		want, err := buildManifest(orig, o)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		got, err := buildManifest(staging, o)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		if diffs = want.diffs(got); len(diffs) == 0 {
			return c, nil
		}
	}
	live := map[string]bool{}
	if ws, err := FindWriters("/proc", orig, 0); err == nil {
		for _, w := range ws {
			if rel, err := filepath.Rel(orig, w.Path); err == nil {
				live[rel] = true
			}
		}
	}
	var bad []string
	for rel, d := range diffs {
		if !live[rel] {
			bad = append(bad, rel+": "+d)
		}
	}
	if len(bad) == 0 {
		for rel := range diffs {
			r.env.Log.Warn().Str("file", filepath.Join(r.rel(orig), rel)).
				Msg("file is being written during the copy; later writes stay in the hidden original until the writer reopens it")
		}
		return c, nil
	}
	sort.Strings(bad)
	if len(bad) > 5 {
		bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
	}
	return nil, fmt.Errorf("the copy differs from the original (is something writing there?): %s", strings.Join(bad, "; "))
}

func syncfs(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// checkSpace refuses a copy that would not fit with some headroom: the
// instance store must not fill up, for what is copied keeps growing.
func checkSpace(mp string, bytes, inodes int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(mp, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", mp, err)
	}
	avail := int64(st.Bavail) * st.Bsize
	need := bytes + bytes/20 + 16<<20
	if avail < need {
		return fmt.Errorf("not enough space on the instance store: need %s, %s free", humanize.Bytes(need), humanize.Bytes(avail))
	}
	if st.Files > 0 && int64(st.Ffree) < inodes+1000 {
		return fmt.Errorf("not enough inodes on the instance store: need %d, %d free", inodes+1000, st.Ffree)
	}
	return nil
}

// quiesce asks journald to leave /var before its files are copied:
// otherwise it keeps writing to the journal while we copy it, and to the
// hidden original afterwards. Whatever relocate.open_files says, this is
// done: --relinquish-var is what journald does at every shutdown, it loses
// nothing (it logs to /run meanwhile), and the flush at the end brings it
// back onto the relocated /var/log.
func (r *run) quiesce(ctx context.Context, orig string) {
	if r.relinquished {
		return
	}
	// Only journald matters here: reading its descriptors alone spares a
	// readlink of every open file of every process.
	ws, err := findWriters("/proc", map[string]int{orig: 0}, journaldComm)
	if err != nil {
		return
	}
	for _, w := range ws {
		if w.Comm != journaldComm {
			continue
		}
		act, _ := reopenFor(r.cfg.Reopen, journaldComm)
		if err := reopen(ctx, act, []int{w.PID}); err != nil {
			r.env.Log.Warn().Err(err).Msg("journald did not relinquish /var")
			return
		}
		r.relinquished = true
		return
	}
}

// handleWriters finds processes still writing under relocated paths on the
// hidden originals and, per relocate.open_files, tells them to reopen their
// files or reports them. Any left over make the run degraded: they fill the
// root disk where nobody looks.
func (r *run) handleWriters(ctx context.Context) {
	if r.relinquished {
		if err := runCommand(ctx, commandTimeout, []string{"journalctl", "--flush"}); err != nil {
			r.env.Log.Warn().Err(err).Msg("journald flush to the relocated /var/log failed")
		} else {
			r.res.Changed = append(r.res.Changed, "journald: relinquished /var and flushed to the relocated /var/log")
		}
	}
	// Only a process that opened a file before its directory was
	// relocated can write to the hidden original: look when this run
	// mounted something, and while an earlier look found writers. A run
	// that changes nothing then skips the scan of every process's open
	// files, the largest part of its time.
	if !r.mounted && !r.relinquished && !r.rs.Writers && !r.env.Force {
		return
	}
	stuck := r.scanWriters()
	defer func() { r.rememberWriters(len(stuck) > 0) }() // after any reopening
	if len(stuck) == 0 {
		return
	}
	if r.cfg.OpenFiles == "restart" {
		byComm := map[string][]int{}
		for _, w := range stuck {
			if !contains(byComm[w.Comm], w.PID) {
				byComm[w.Comm] = append(byComm[w.Comm], w.PID)
			}
		}
		flush := false
		for comm, pids := range byComm {
			act, ok := reopenFor(r.cfg.Reopen, comm)
			if !ok {
				continue
			}
			if err := reopen(ctx, act, pids); err != nil {
				r.env.Log.Warn().Err(err).Str("process", comm).Msg("could not make writers reopen their files")
				continue
			}
			flush = flush || (comm == journaldComm && len(act.Command) > 0 && act.Command[0] == "journalctl")
			r.res.Changed = append(r.res.Changed, fmt.Sprintf("told %s (pid %s) to reopen its files on the relocated paths", comm, pids2s(pids)))
		}
		if flush {
			if err := runCommand(ctx, commandTimeout, []string{"journalctl", "--flush"}); err != nil {
				r.env.Log.Warn().Err(err).Msg("journald flush failed")
			}
		}
		// Reopening is asynchronous (a signal handler): give it a moment.
		for i := 0; i < 20 && len(stuck) > 0; i++ {
			select {
			case <-ctx.Done():
				i = 20
			case <-time.After(100 * time.Millisecond):
			}
			stuck = r.scanWriters()
		}
	}
	for _, w := range stuck {
		msg := fmt.Sprintf("pid %d (%s) still writes to %s on the root disk, hidden under the relocated mount", w.PID, w.Comm, r.rel(w.Path))
		if r.cfg.OpenFiles == "report" {
			msg += `; restart it, or set relocate.open_files = "restart"`
		}
		r.res.Degraded = append(r.res.Degraded, msg)
	}
}

// rememberWriters records whether writers to hidden originals remain, so
// that the next run looks again only if they do.
func (r *run) rememberWriters(found bool) {
	if r.rs.Writers == found || r.env.State == nil || r.env.State.ReadOnly() {
		return
	}
	r.rs.Writers = found
	if err := r.env.State.Save(stateName, r.rs, r.env.Clock.Now()); err != nil {
		r.env.Log.Warn().Err(err).Msg("cannot record the writers found; the next run looks again")
	}
}

// scanWriters lists writers to hidden originals under every relocated path.
func (r *run) scanWriters() []Writer {
	_ = r.stage("scan-writers", "") // lets tests count the scans
	tab, err := mountinfo.Self()
	if err != nil {
		return nil
	}
	sm, err := r.storeMount(tab)
	if err != nil {
		return nil
	}
	dirs := map[string]int{}
	for _, path := range r.cfg.Paths {
		orig := r.env.Root.Lpath(path)
		top, ok := tab.Top(orig)
		if !ok || !ourMount(top, sm, path) {
			continue
		}
		dirs[orig] = top.ID
	}
	if len(dirs) == 0 {
		return nil
	}
	// One pass over /proc for every path: the pass is what costs.
	out, err := FindWritersIn("/proc", dirs)
	if err != nil {
		return nil
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func pids2s(pids []int) string {
	sort.Ints(pids)
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}
