package relocate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// copier copies a directory tree with everything `cp -a` keeps and a bit
// more: owner, mode (setuid, sticky), timestamps, every xattr (so POSIX
// ACLs in system.posix_acl_*, SELinux labels, user.*), symlinks, hard
// links, device nodes and FIFOs, and holes in sparse files.
type copier struct {
	// dirsOnly copies only directories: the skeleton of a tree whose
	// files are gone (a stop/start erased the instance store).
	dirsOnly bool
	// links maps a source inode with several links to its first copy.
	links map[fileID]string
	buf   []byte
	dirs  int
	files int
	bytes int64
}

type fileID struct{ dev, ino uint64 }

func newCopier(dirsOnly bool) *copier {
	return &copier{dirsOnly: dirsOnly, links: map[fileID]string{}, buf: make([]byte, 1<<20)}
}

// copyTree copies src to dst, which must not exist. It does not cross into
// other filesystems: callers refuse trees with mounts inside.
func (c *copier) copyTree(src, dst string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s is not a directory", src)
	}
	return c.copyDir(src, dst, &st)
}

func (c *copier) copyDir(src, dst string, st *unix.Stat_t) error {
	if err := os.Mkdir(dst, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	c.dirs++
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", src, err)
	}
	for _, e := range ents {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		var cst unix.Stat_t
		if err := unix.Lstat(s, &cst); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // removed while we copy (a rotated temp file)
			}
			return fmt.Errorf("stat %s: %w", s, err)
		}
		if cst.Dev != st.Dev {
			return fmt.Errorf("%s is on another filesystem (a mount inside the tree)", s)
		}
		if err := c.copyEntry(s, d, &cst); err != nil {
			return err
		}
	}
	// Metadata last: a read-only mode would stop us creating children, and
	// creating them changes the directory's mtime.
	return setMeta(src, dst, st, true)
}

func (c *copier) copyEntry(src, dst string, st *unix.Stat_t) error {
	mode := st.Mode & unix.S_IFMT
	if mode == unix.S_IFDIR {
		return c.copyDir(src, dst, st)
	}
	if c.dirsOnly {
		return nil
	}
	if mode != unix.S_IFDIR && st.Nlink > 1 {
		id := fileID{st.Dev, st.Ino}
		if first, ok := c.links[id]; ok {
			if err := os.Link(first, dst); err != nil {
				return fmt.Errorf("hard link %s: %w", dst, err)
			}
			return nil
		}
		c.links[id] = dst
	}
	c.files++
	switch mode {
	case unix.S_IFREG:
		if err := c.copyFile(src, dst, st); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("read link %s: %w", src, err)
		}
		if err := os.Symlink(target, dst); err != nil {
			return fmt.Errorf("create link %s: %w", dst, err)
		}
	case unix.S_IFIFO, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFSOCK:
		if err := unix.Mknod(dst, st.Mode&(unix.S_IFMT|0o7777), int(st.Rdev)); err != nil {
			return fmt.Errorf("create node %s: %w", dst, err)
		}
	default:
		return fmt.Errorf("%s: unknown file type %o", src, mode)
	}
	return setMeta(src, dst, st, false)
}

// copyFile copies the data ranges of src only, leaving holes as holes.
func (c *copier) copyFile(src, dst string, st *unix.Stat_t) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		in, err = os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if err := c.copyData(in, out); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}

func (c *copier) copyData(in, out *os.File) error {
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	var off int64
	for off < size {
		data, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			data = off // no hole support: copy everything
		} else if err != nil {
			return err
		}
		hole, err := unix.Seek(int(in.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			hole = size
		}
		if err := c.copyRange(in, out, data, min(hole, size)); err != nil {
			return err
		}
		off = hole
	}
	// Sets the size past a trailing hole, and cuts a file that shrank.
	return out.Truncate(size)
}

func (c *copier) copyRange(in, out *os.File, from, to int64) error {
	for from < to {
		n, err := in.ReadAt(c.buf[:min(int64(len(c.buf)), to-from)], from)
		if n > 0 {
			if _, werr := out.WriteAt(c.buf[:n], from); werr != nil {
				return werr
			}
			from += int64(n)
			c.bytes += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return nil // the file shrank while we copied; verify catches it
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setMeta gives dst the owner, xattrs, mode and times of src. Owner first:
// chown clears setuid bits, so the mode must come after it.
func setMeta(src, dst string, st *unix.Stat_t, isDir bool) error {
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	// xattrs before the mode: setting an ACL may clear setgid, and the
	// chmod after it leaves the ACL mask as it was (it is the group bits).
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	if !isLink {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod %s: %w", dst, err)
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times on %s: %w", dst, err)
	}
	return nil
}

func copyXattrs(src, dst string) error {
	attrs, err := listXattrs(src)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if err := unix.Lsetxattr(dst, a.name, a.value, 0); err != nil {
			return fmt.Errorf("set xattr %s on %s: %w", a.name, dst, err)
		}
	}
	return nil
}

// aclAliases are the names XFS also shows a POSIX ACL under (to root). The
// ACL itself is copied as system.posix_acl_*; copying these as well would
// leave stray trusted.* attributes on another filesystem.
var aclAliases = map[string]bool{"trusted.SGI_ACL_FILE": true, "trusted.SGI_ACL_DEFAULT": true}

type xattr struct {
	name  string
	value []byte
}

// listXattrs reads every extended attribute of p (not following links).
func listXattrs(p string) ([]xattr, error) {
	size, err := unix.Llistxattr(p, nil)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	if size == 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(p, buf)
	if err != nil {
		return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	var out []xattr
	for _, name := range splitNames(buf[:size]) {
		if aclAliases[name] {
			continue
		}
		vsize, err := unix.Lgetxattr(p, name, nil)
		if err != nil {
			return nil, fmt.Errorf("read xattr %s of %s: %w", name, p, err)
		}
		val := make([]byte, vsize)
		if vsize > 0 {
			if vsize, err = unix.Lgetxattr(p, name, val); err != nil {
				return nil, fmt.Errorf("read xattr %s of %s: %w", name, p, err)
			}
		}
		out = append(out, xattr{name, val[:vsize]})
	}
	return out, nil
}

func splitNames(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, string(b[start:i]))
			}
			start = i + 1
		}
	}
	return out
}
