package relocate

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Entry is what verification compares for one file: everything a copy must
// preserve, and the SHA-256 of a regular file's content (contentSum: only
// its data extents are read).
type Entry struct {
	Type   string // dir, file, link, fifo, chr, blk, sock
	Mode   uint32 // permission bits with setuid, setgid, sticky
	UID    uint32
	GID    uint32
	Size   int64
	Mtime  int64 // nanoseconds
	Rdev   uint64
	Target string            // symlink target
	Sum    string            // hex SHA-256 of a regular file
	Xattrs map[string]string // name -> hex value
	// LinkTo is the first path (in walk order) sharing this inode, for
	// hard links; empty for the first or only link.
	LinkTo string
}

// Manifest maps a path relative to the tree's top ("." for the top) to its
// entry.
type Manifest map[string]Entry

// Options for building a manifest.
type manifestOpts struct {
	dirsOnly bool
	noSums   bool
}

// BuildManifest walks dir (not crossing filesystems) and records every
// entry; with dirsOnly, only directories.
func BuildManifest(dir string) (Manifest, error) { return buildManifest(dir, manifestOpts{}) }

func buildManifest(dir string, o manifestOpts) (Manifest, error) {
	m := Manifest{}
	var top unix.Stat_t
	if err := unix.Lstat(dir, &top); err != nil {
		return nil, fmt.Errorf("stat %s: %w", dir, err)
	}
	links := map[fileID]string{}
	var walk func(rel string) error
	walk = func(rel string) error {
		p := filepath.Join(dir, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if st.Dev != top.Dev {
			return fmt.Errorf("%s is on another filesystem", p)
		}
		e, err := entryOf(p, &st, o.noSums)
		if err != nil {
			return err
		}
		if e.Type != "dir" && o.dirsOnly {
			return nil
		}
		if e.Type != "dir" && st.Nlink > 1 {
			id := fileID{st.Dev, st.Ino}
			if first, ok := links[id]; ok {
				e.LinkTo = first
			} else {
				links[id] = rel
			}
		}
		m[rel] = e
		if e.Type != "dir" {
			return nil
		}
		names, err := readNames(p)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := walk(filepath.Join(rel, n)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return nil, err
	}
	return m, nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

func entryOf(p string, st *unix.Stat_t, noSum bool) (Entry, error) {
	e := Entry{Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid, Mtime: st.Mtim.Nano()}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		e.Type = "dir"
	case unix.S_IFREG:
		e.Type, e.Size = "file", st.Size
		if !noSum {
			sum, err := fileSum(p)
			if err != nil {
				return Entry{}, err
			}
			e.Sum = sum
		}
	case unix.S_IFLNK:
		e.Type, e.Mode = "link", 0
		t, err := os.Readlink(p)
		if err != nil {
			return Entry{}, fmt.Errorf("read link %s: %w", p, err)
		}
		e.Target = t
	case unix.S_IFIFO:
		e.Type = "fifo"
	case unix.S_IFCHR:
		e.Type, e.Rdev = "chr", st.Rdev
	case unix.S_IFBLK:
		e.Type, e.Rdev = "blk", st.Rdev
	case unix.S_IFSOCK:
		e.Type = "sock"
	default:
		e.Type = fmt.Sprintf("unknown(%o)", st.Mode&unix.S_IFMT)
	}
	attrs, err := listXattrs(p)
	if err != nil {
		return Entry{}, err
	}
	for _, a := range attrs {
		if e.Xattrs == nil {
			e.Xattrs = map[string]string{}
		}
		e.Xattrs[a.name] = hex.EncodeToString(a.value)
	}
	return e, nil
}

// Diff lists the differences between two manifests, one line each, sorted:
// "var/x: missing in the copy", "var/y: mode 0644 != 0600". Empty means
// identical.
func (m Manifest) Diff(other Manifest) []string {
	var out []string
	for rel, d := range m.diffs(other) {
		out = append(out, rel+": "+d)
	}
	sort.Strings(out)
	return out
}

// diffs maps each differing path to what differs.
func (m Manifest) diffs(other Manifest) map[string]string {
	out := map[string]string{}
	for rel, a := range m {
		b, ok := other[rel]
		if !ok {
			out[rel] = "missing in the copy"
			continue
		}
		if d := a.diff(b); d != "" {
			out[rel] = d
		}
	}
	for rel := range other {
		if _, ok := m[rel]; !ok {
			out[rel] = "not in the original"
		}
	}
	return out
}

func (a Entry) diff(b Entry) string {
	var d []string
	add := func(what string, x, y any) { d = append(d, fmt.Sprintf("%s %v != %v", what, x, y)) }
	if a.Type != b.Type {
		return fmt.Sprintf("type %s != %s", a.Type, b.Type)
	}
	if a.Mode != b.Mode {
		add("mode", fmt.Sprintf("%04o", a.Mode), fmt.Sprintf("%04o", b.Mode))
	}
	if a.UID != b.UID || a.GID != b.GID {
		add("owner", fmt.Sprintf("%d:%d", a.UID, a.GID), fmt.Sprintf("%d:%d", b.UID, b.GID))
	}
	if a.Size != b.Size {
		add("size", a.Size, b.Size)
	}
	if a.Mtime != b.Mtime {
		add("mtime", a.Mtime, b.Mtime)
	}
	if a.Rdev != b.Rdev {
		add("device", a.Rdev, b.Rdev)
	}
	if a.Target != b.Target {
		add("link target", a.Target, b.Target)
	}
	if a.Sum != b.Sum {
		add("sha256", short(a.Sum), short(b.Sum))
	}
	if a.LinkTo != b.LinkTo {
		add("hard link to", a.LinkTo, b.LinkTo)
	}
	if fmt.Sprint(a.Xattrs) != fmt.Sprint(b.Xattrs) {
		add("xattrs", keys(a.Xattrs), keys(b.Xattrs))
	}
	return strings.Join(d, ", ")
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func keys(m map[string]string) string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return "[" + strings.Join(k, " ") + "]"
}

// usage sums what a tree occupies: allocated bytes (st_blocks, so sparse
// files count what they use) and the number of inodes.
func usage(dir string) (bytes int64, inodes int64, err error) {
	var top unix.Stat_t
	if err := unix.Lstat(dir, &top); err != nil {
		return 0, 0, fmt.Errorf("stat %s: %w", dir, err)
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if st.Dev != top.Dev && d.IsDir() {
			return filepath.SkipDir
		}
		bytes += st.Blocks * 512
		inodes++
		return nil
	})
	return bytes, inodes, err
}
