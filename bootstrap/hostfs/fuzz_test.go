package hostfs

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Whatever the path and whatever links the tree holds, a resolution ends
// inside the root.
func FuzzResolveStaysInsideTheRoot(f *testing.F) {
	for _, s := range []string{"/etc/hosts", "../../..", "/etc/up/../../x", "/etc/abs/a/b", "etc//./app/dir/..", "/loop/x", ""} {
		f.Add(s)
	}
	root := tree(f, "etc/", "etc/app/", "etc/hosts=x", "etc/abs->/", "etc/up->../../../../..",
		"etc/app/dir->/etc/app", "loop->/loop2", "loop2->loop", "etc/dotdot->..")
	f.Fuzz(func(t *testing.T, p string) {
		if strings.ContainsRune(p, 0) {
			return
		}
		res, err := Root(root).Resolve(p)
		if err != nil {
			if !errors.Is(err, syscall.ELOOP) && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.ENAMETOOLONG) {
				t.Fatalf("Resolve(%q): unexpected error %v", p, err)
			}
			return
		}
		if res.Real != root && !strings.HasPrefix(res.Real, root+"/") {
			t.Fatalf("Resolve(%q).Real = %s, outside %s", p, res.Real, root)
		}
		if filepath.Clean(res.Target) != res.Target || !filepath.IsAbs(res.Target) {
			t.Fatalf("Resolve(%q).Target = %q, not a clean absolute path", p, res.Target)
		}
	})
}
