// Package atomicfile is the one way ec2boot writes files: compare first and
// write nothing when the bytes and metadata already match; otherwise write a
// temporary file in the same directory, set owner, mode, SELinux label and
// other extended attributes on it, fsync, rename over the target and fsync
// the directory. A reader never sees a half-written file, and a crash leaves
// either the old or the new content (plus, at worst, a temporary file that
// the next Write removes).
//
// Two deliberate exceptions: a mode- or owner-only difference is repaired on
// the existing inode without rewriting the content, and a target that is a
// mount point of its own (a bind-mounted single file, as a container's
// /etc/hosts) is detected before the attempt and rewritten in place, because
// rename(2) onto a mount point fails with EBUSY.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// TempMarker is part of every temporary file name we create, so that
// CleanStale removes only our own leftovers.
const TempMarker = ".ec2boot-tmp-"

// Options says how the file should end up. A zero Mode keeps the existing
// file's mode (0644 for a new file); UID/GID of -1 keep the existing owner
// (the caller's for a new file).
type Options struct {
	Mode fs.FileMode
	UID  int
	GID  int
	// Expect, when set, is the state the caller read the file in (from
	// Read); Write fails with ErrChangedUnderneath if the file changed since,
	// checked both before starting and again just before the rename.
	Expect *Snapshot
	// Check, when set, is called with the path of the fully written and
	// synced temporary file before it replaces the target; an error leaves
	// the target untouched.
	Check func(stagedPath string) error

	// beforeRename is a fault hook for tests (kill between write and rename).
	beforeRename func(tmpPath string)
}

// Defaults returns Options that keep owner and mode.
func Defaults() Options { return Options{UID: -1, GID: -1} }

// Outcome tells what Write did.
type Outcome int

// The outcomes of Write.
const (
	Unchanged      Outcome = iota // bytes and metadata already matched
	MetadataFixed                 // only mode or owner were repaired
	Written                       // new content was written (temp + rename)
	WrittenInPlace                // new content was written into the mount point itself
)

func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case MetadataFixed:
		return "metadata fixed"
	case Written:
		return "written"
	case WrittenInPlace:
		return "written in place"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Changed reports whether anything on disk changed.
func (o Outcome) Changed() bool { return o != Unchanged }

// ErrChangedUnderneath means the file changed between the caller's read and
// our rename: someone else edited it, and we refuse to overwrite their edit.
var ErrChangedUnderneath = errors.New("file changed by someone else since it was read")

// Write makes path hold data with the given options.
func Write(path string, data []byte, opt Options) (Outcome, error) {
	path, cur, err := resolve(path)
	if err != nil {
		return Unchanged, err
	}
	if opt.Expect != nil && !opt.Expect.matches(cur.info) {
		return Unchanged, fmt.Errorf("write %s: %w", path, ErrChangedUnderneath)
	}
	// A run killed between writing and renaming left a temporary file; the
	// run lock guarantees no other writer of ours is active now.
	if _, err := CleanStale(path); err != nil {
		return Unchanged, fmt.Errorf("write %s: remove stale temporary files: %w", path, err)
	}
	want := wanted(cur.info, opt)
	if cur.info != nil {
		same, err := sameContent(path, cur.info, data)
		if err != nil {
			return Unchanged, fmt.Errorf("write %s: %w", path, err)
		}
		if same {
			return fixMetadata(path, cur.info, want)
		}
		if cur.mountPoint {
			return writeInPlace(path, data, want, cur.info, opt)
		}
	}
	if err := replace(path, data, cur.info, want, opt); err != nil {
		return Unchanged, err
	}
	return Written, nil
}

// target is what resolve found at a path.
type target struct {
	info       fs.FileInfo // nil when the file does not exist
	mountPoint bool
}

// resolve stats the target. A symbolic link is never followed here: the
// caller resolves the path it writes with hostfs.Root.Dest, which applies
// the link rule, and passes the link-free result. Finding a link now means
// one was planted since, and writing through it is exactly the attack the
// rule exists for.
func resolve(path string) (string, target, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, target{}, nil
	}
	if err != nil {
		return path, target{}, fmt.Errorf("write %s: %w", path, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return path, target{}, fmt.Errorf("write %s: %w", path, ErrSymlink)
	}
	if !st.Mode().IsRegular() {
		return path, target{}, fmt.Errorf("write %s: not a regular file (%s)", path, st.Mode().Type())
	}
	mp, err := IsMountPoint(path)
	if err != nil {
		return path, target{}, fmt.Errorf("write %s: %w", path, err)
	}
	return path, target{info: st, mountPoint: mp}, nil
}

// ErrSymlink means the path to write is, or goes through, a symbolic link
// that was not resolved beforehand.
var ErrSymlink = errors.New("is a symbolic link or has one on the way, not followed by the writer (resolve the destination first)")

// openDir opens the directory a write happens in, refusing a symbolic link
// anywhere in its path, so that a directory swapped for a link after the
// caller resolved the destination cannot redirect the temporary file or
// the rename.
func openDir(dir string) (*os.File, error) {
	f, err := openNoLinks(dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", dir, err)
	}
	return f, nil
}

// openNoLinks opens path refusing a symbolic link in any of its components.
func openNoLinks(path string, flags int) (*os.File, error) {
	f, err := hostfs.OpenNoLinks(path, flags)
	if errors.Is(err, hostfs.ErrLinkOnTheWay) {
		return nil, ErrSymlink
	}
	return f, err
}

func syncDir(d *os.File) error {
	// Some filesystems refuse fsync on a directory; the rename is then as
	// durable as they make it.
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync directory %s: %w", d.Name(), err)
	}
	return nil
}
