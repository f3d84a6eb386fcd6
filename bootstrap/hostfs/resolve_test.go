package hostfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tree builds a root from "path" (directory, when it ends in /), "path=text"
// (file) and "path->target" (symbolic link) entries.
func tree(t testing.TB, entries ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, e := range entries {
		var err error
		switch {
		case strings.Contains(e, "->"):
			p, target, _ := strings.Cut(e, "->")
			err = os.Symlink(target, filepath.Join(root, p))
		case strings.Contains(e, "="):
			p, text, _ := strings.Cut(e, "=")
			err = os.WriteFile(filepath.Join(root, p), []byte(text), 0o644)
		default:
			err = os.MkdirAll(filepath.Join(root, e), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveStaysInsideTheRoot(t *testing.T) {
	root := tree(t, "etc/", "etc/hosts=in root", "etc/app/", "data/", "data/x=x",
		"etc/abs->/etc/hosts", "etc/rel->hosts", "etc/up->../../../../data/x",
		"etc/app/dir->/data", "etc/chain->/etc/abs", "etc/app/dotdot->../../../etc/hosts")
	tests := []struct {
		in, target string
		links      int
	}{
		{"/etc/hosts", "/etc/hosts", 0},
		{"/etc/abs", "/etc/hosts", 1},
		{"/etc/rel", "/etc/hosts", 1},
		{"/etc/up", "/data/x", 1},
		{"/etc/app/dir/x", "/data/x", 1},
		{"/etc/app/dir/new/file", "/data/new/file", 1},
		{"/etc/chain", "/etc/hosts", 2},
		{"/etc/app/dotdot", "/etc/hosts", 1},
		{"/../../etc/hosts", "/etc/hosts", 0},
		{"etc/missing/file", "/etc/missing/file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			res, err := Root(root).Resolve(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{res.Target, res.Real, len(res.Links)}
			want := []any{tt.target, filepath.Join(root, tt.target), tt.links}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Resolve(%s) (-want +got):\n%s", tt.in, d)
			}
			if p := Root(root).Path(tt.in); p != res.Real {
				t.Errorf("Path(%s) = %s, want %s", tt.in, p, res.Real)
			}
		})
	}
}

func TestLpathKeepsTheLastLink(t *testing.T) {
	root := tree(t, "etc/", "real/", "etc/link->/real", "real/f->/etc")
	if got, want := Root(root).Lpath("/etc/link/f"), filepath.Join(root, "real/f"); got != want {
		t.Errorf("Lpath = %s, want %s", got, want)
	}
	if got, want := Root(root).Lpath("/etc/link"), filepath.Join(root, "etc/link"); got != want {
		t.Errorf("Lpath = %s, want %s", got, want)
	}
}

func TestResolveLoopAndFileAsDirectory(t *testing.T) {
	root := tree(t, "a->/b", "b->/a", "f=x")
	if _, err := Root(root).Resolve("/a"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("loop: err = %v, want ELOOP", err)
	}
	if _, err := Root(root).Resolve("/f/x"); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("file as directory: err = %v, want ENOTDIR", err)
	}
}

func TestRealRootOnlyCleans(t *testing.T) {
	for _, r := range []Root{"", "/"} {
		if got := r.Path("etc/../etc/hosts"); got != "/etc/hosts" {
			t.Errorf("Root(%q).Path = %q", r, got)
		}
	}
}
