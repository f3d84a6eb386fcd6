package hostfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrUntrustedLink is wrapped by Dest's refusal to write through a link that
// someone other than root could have planted or redirected.
var ErrUntrustedLink = errors.New("symbolic link not trusted")

// Dest resolves a destination ec2boot is about to write and applies the link
// rule: a link is written through only when the link itself and every
// directory on the way (the link's and its target's, the root's own
// included) belong to root and are writable by nobody else. Otherwise an
// account that owns one of them could point the link at any file, and
// ec2boot would replace that file with root's privileges. The refusal is one
// line naming the link, its target and who owns what broke the rule.
func (r Root) Dest(p string) (Resolved, error) {
	res, err := r.Resolve(p)
	if err != nil {
		return res, err
	}
	if len(res.Links) == 0 {
		return res, nil
	}
	if dangling(r, res) {
		l := res.Links[len(res.Links)-1]
		return res, fmt.Errorf("the symbolic link %s points to %s, which does not exist; not replaced by a regular file", l.Path, l.Target)
	}
	if why := distrust(res); why != "" {
		l := res.Links[0]
		via := ""
		if l.Target != res.Target {
			via = " (leading to " + res.Target + ")"
		}
		return res, untrusted(fmt.Sprintf("refusing to write through the symbolic link %s -> %s%s: %s",
			l.Path, l.Target, via, why))
	}
	return res, nil
}

// untrusted is the refusal: its text is the whole line, and it is
// ErrUntrustedLink for errors.Is.
type untrusted string

func (u untrusted) Error() string { return string(u) }

func (u untrusted) Is(target error) bool { return target == ErrUntrustedLink }

// distrust says why res breaks the link rule, or "" when it keeps it.
func distrust(res Resolved) string {
	for _, l := range res.Links {
		if l.UID != 0 {
			return fmt.Sprintf("link %s is owned by uid %d, not root", l.Path, l.UID)
		}
	}
	for _, d := range res.Dirs {
		if d.UID != 0 {
			return fmt.Sprintf("directory %s is owned by uid %d, not root", d.Path, d.UID)
		}
		// A sticky directory (/tmp) still lets others create links in it.
		if d.Mode.Perm()&0o022 != 0 {
			return fmt.Sprintf("directory %s is writable by others than root (mode %s)", d.Path, d.Mode)
		}
	}
	return ""
}

// dangling reports whether the destination itself is a link whose target
// does not exist: writing would create a file somewhere the link's author
// chose, so it is an error, as it was before links were resolved here.
func dangling(r Root, res Resolved) bool {
	if _, err := os.Lstat(res.Real); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	st, err := os.Lstat(r.Lpath(res.Host))
	return err == nil && st.Mode()&fs.ModeSymlink != 0
}
