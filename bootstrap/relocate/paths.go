package relocate

import (
	"errors"
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/humanize"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
)

// pathKind is what relocation does to one path.
type pathKind int

const (
	pathSkip     pathKind = iota // nothing, with a reason
	pathBound                    // already relocated
	pathRestore                  // reboot: the copy is there, mount it again
	pathSkeleton                 // stop/start: recreate directories only
	pathCopy                     // first time: copy, verify, mount
	pathLater                    // decided once the instance store is mounted
	pathError                    // refused, with a reason
)

type pathPlan struct {
	path   string
	kind   pathKind
	reason string
	bytes  int64
	inodes int64
}

func (pp pathPlan) describe(p *plan) string {
	target := p.rel(filepath.Join(p.base(), pp.path))
	switch pp.kind {
	case pathSkip:
		return "skip: " + pp.reason
	case pathBound:
		return "already relocated (bind mount from " + target + ")"
	case pathRestore:
		return "bind-mount " + target + " again (reboot: the instance store kept its data; nothing is copied)"
	case pathSkeleton:
		return fmt.Sprintf("recreate the directory skeleton in %s and bind-mount it (the instance store was erased by a stop/start: logs kept there before are gone)", target)
	case pathCopy:
		return fmt.Sprintf("copy %s in %d entries to %s, verify by checksum, bind-mount it over %s (the original stays underneath)",
			humanize.Bytes(pp.bytes), pp.inodes, target, pp.path)
	case pathLater:
		return fmt.Sprintf("after mounting: bind-mount again if the marker says so, else copy %s in %d entries to %s", humanize.Bytes(pp.bytes), pp.inodes, target)
	default:
		return "error: " + pp.reason
	}
}

// ourMount reports whether m is our bind mount of path from the store
// mounted as store.
func ourMount(m mountinfo.Mount, store mountinfo.Mount, path string) bool {
	return m.Major == store.Major && m.Minor == store.Minor &&
		m.Root == filepath.Join(store.Root, "ec2boot", path)
}

// decidePath works out what to do with one configured path. store is the
// instance store's mount (nil while it is not mounted yet: then known says
// whether it is blank, i.e. about to be formatted).
func (p *plan) decidePath(path string, tab mountinfo.Table, store *mountinfo.Mount, m *Marker, rs rootState, known bool) pathPlan {
	pp := pathPlan{path: path}
	orig := p.env.Root.Lpath(path)
	fi, err := os.Lstat(orig)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		pp.kind, pp.reason = pathSkip, "does not exist"
		return pp
	case err != nil:
		pp.kind, pp.reason = pathError, err.Error()
		return pp
	case fi.Mode()&fs.ModeSymlink != 0:
		pp.kind, pp.reason = pathError, "is a symlink; relocation bind-mounts directories only"
		return pp
	case !fi.IsDir():
		pp.kind, pp.reason = pathError, "is not a directory"
		return pp
	}
	at := tab.At(orig)
	if store != nil {
		for i, mnt := range at {
			if !ourMount(mnt, *store, path) {
				continue
			}
			if i == len(at)-1 {
				pp.kind = pathBound
				return pp
			}
			pp.kind, pp.reason = pathError, "something is mounted over our bind mount"
			return pp
		}
	}
	if len(at) > 0 && at[len(at)-1].FSType == "tmpfs" {
		pp.kind, pp.reason = pathSkip, "already a tmpfs (in memory, as on Amazon Linux 2023 and Debian 13): left alone"
		return pp
	}
	var inside []string
	for _, mnt := range tab {
		if mnt.MountPoint != orig && isUnder(mnt.MountPoint, orig) {
			inside = append(inside, p.rel(mnt.MountPoint))
		}
	}
	if len(inside) > 0 {
		pp.kind, pp.reason = pathError, "has mounts inside it ("+strings.Join(inside, ", ")+"); not relocating"
		return pp
	}
	if !known {
		pp.kind = pathLater
	} else {
		target := filepath.Join(p.base(), path)
		e := MarkerEntry{}
		if m != nil {
			e = m.Paths[path]
		}
		switch {
		case e.State == stateBound && isDir(target):
			pp.kind = pathRestore
			return pp
		case rs.Paths[path]:
			pp.kind = pathSkeleton
			return pp
		default:
			pp.kind = pathCopy
		}
	}
	pp.bytes, pp.inodes, err = usage(orig)
	if err != nil {
		pp.kind, pp.reason = pathError, err.Error()
	}
	return pp
}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}
