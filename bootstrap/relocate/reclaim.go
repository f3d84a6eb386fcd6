package relocate

import (
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/humanize"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
)

// maybeReclaim deletes, when relocate.reclaim is on, the files of the hidden
// original that are identical to their copy on the instance store. It runs
// only after the bind mount: until then the original is what is in use.
// Directories are kept, so that the skeleton survives for a stop/start and
// for booting without an instance store.
func (r *run) maybeReclaim(path string) error {
	e := r.marker.Paths[path]
	if !r.cfg.Reclaim || e.Reclaimed || e.Seed != "copy" || e.State != stateBound {
		return nil
	}
	files, freed, err := r.reclaim(path)
	if err != nil {
		return fmt.Errorf("relocate %s: reclaim: %w", path, err)
	}
	e.Reclaimed = true
	if err := r.setMarker(path, e); err != nil {
		return fmt.Errorf("relocate %s: %w", path, err)
	}
	msg := fmt.Sprintf("%s: reclaimed %d files (%s) of the hidden original on the root disk", path, files, humanize.Bytes(freed))
	r.res.Changed = append(r.res.Changed, msg)
	return nil
}

// reclaim reaches the original under the bind mount through a private,
// detached clone of the mount below it (open_tree): nothing is mounted
// anywhere, nothing propagates to other namespaces, and it vanishes when the
// descriptor is closed.
func (r *run) reclaim(path string) (files int, freed int64, err error) {
	orig := r.env.Root.Lpath(path)
	tab, err := mountinfo.Self()
	if err != nil {
		return 0, 0, err
	}
	below, ok := tab.Below(orig)
	if !ok {
		return 0, 0, fmt.Errorf("no mount below %s", orig)
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, below.MountPoint, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return 0, 0, fmt.Errorf("open the mount below %s: %w", path, err)
	}
	defer unix.Close(fd)
	rel, err := filepath.Rel(below.MountPoint, orig)
	if err != nil {
		return 0, 0, err
	}
	hidden := filepath.Join("/proc/self/fd", strconv.Itoa(fd), rel)
	copyDir := filepath.Join(r.base(), path)
	return reclaimTree(hidden, copyDir)
}

// reclaimTree deletes each non-directory under hidden whose counterpart
// under copyDir has the same type, owner, mode, size, mtime and content.
func reclaimTree(hidden, copyDir string) (files int, freed int64, err error) {
	err = filepath.WalkDir(hidden, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(hidden, p)
		if err != nil {
			return err
		}
		var st, ct unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("stat %s: %w", rel, err)
		}
		cp := filepath.Join(copyDir, rel)
		if err := unix.Lstat(cp, &ct); err != nil {
			return nil // not in the copy (written after it): keep
		}
		a, err := entryOf(p, &st, false)
		if err != nil {
			return err
		}
		b, err := entryOf(cp, &ct, false)
		if err != nil {
			return err
		}
		if a.diff(b) != "" {
			return nil
		}
		if err := unix.Unlink(p); err != nil {
			return fmt.Errorf("delete %s: %w", rel, err)
		}
		files++
		if st.Nlink <= 1 {
			freed += st.Blocks * 512
		}
		return nil
	})
	return files, freed, err
}
