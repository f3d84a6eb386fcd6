package hostfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds the links one resolution follows, as the kernel's ELOOP
// limit does.
const maxLinks = 40

// Resolved is where a host path really leads inside a root.
type Resolved struct {
	// Host is the path asked for, cleaned.
	Host string
	// Target is the host path the file really is at: Host when no link was
	// followed.
	Target string
	// Real is Target placed under the root: the path to open.
	Real string
	// Links are the symbolic links followed, in order.
	Links []Link
	// Dirs are the directories walked through, the root's own first.
	Dirs []Dir
}

// Link is one symbolic link met on the way.
type Link struct {
	Path   string // host path of the link itself
	Target string // what it points to, as written in it
	UID    int
}

// Dir is one directory walked through.
type Dir struct {
	Path string // host path
	UID  int
	Mode fs.FileMode
}

// Followed reports whether the file is somewhere else than the path asked
// for.
func (r Resolved) Followed() bool { return r.Target != r.Host }

// Resolve resolves host path p inside the root, following every link (the
// last component's too). A path that does not exist (yet) resolves as far
// as it exists and keeps the rest as written.
func (r Root) Resolve(p string) (Resolved, error) { return r.resolve(p, true) }

func (r Root) resolve(p string, followLast bool) (Resolved, error) {
	res := Resolved{Host: filepath.Clean("/" + p)}
	top, err := r.dirInfo("/")
	if err != nil {
		return res, err
	}
	res.Dirs = append(res.Dirs, top)
	var done []string // components resolved so far: each a directory, or the final file
	todo := split(res.Host)
	missing := false
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch {
		case c == "" || c == ".":
			continue
		case c == "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := "/" + strings.Join(append(done[:len(done):len(done)], c), "/")
		if missing {
			done = append(done, c)
			continue
		}
		st, err := os.Lstat(r.join(cand))
		if errors.Is(err, fs.ErrNotExist) {
			missing = true
			done = append(done, c)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("resolve %s: %w", res.Host, err)
		}
		if st.Mode()&fs.ModeSymlink != 0 && (followLast || len(todo) > 0) {
			if len(res.Links) >= maxLinks {
				return res, fmt.Errorf("resolve %s: %w", res.Host, syscall.ELOOP)
			}
			target, err := os.Readlink(r.join(cand))
			if err != nil {
				return res, fmt.Errorf("resolve %s: %w", res.Host, err)
			}
			res.Links = append(res.Links, Link{Path: cand, Target: target, UID: uidOf(st)})
			if filepath.IsAbs(target) {
				done = nil
			}
			todo = append(split(target), todo...)
			continue
		}
		if st.IsDir() {
			res.Dirs = append(res.Dirs, Dir{Path: cand, UID: uidOf(st), Mode: st.Mode()})
		} else if len(todo) > 0 {
			return res, fmt.Errorf("resolve %s: %s: %w", res.Host, cand, syscall.ENOTDIR)
		}
		done = append(done, c)
	}
	res.Target = "/" + strings.Join(done, "/")
	res.Real = r.join(res.Target)
	return res, nil
}

func (r Root) dirInfo(host string) (Dir, error) {
	// The root itself is the operator's choice and may be reached through
	// a link: it is the directory that counts.
	st, err := os.Stat(r.join(host))
	if err != nil {
		return Dir{}, fmt.Errorf("root %s: %w", r.join(host), err)
	}
	return Dir{Path: host, UID: uidOf(st), Mode: st.Mode()}, nil
}

func split(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

func uidOf(st fs.FileInfo) int {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}
