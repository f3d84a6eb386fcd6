package relocate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestCopyTreeKeepsEverything(t *testing.T) {
	needRoot(t, "chown, device nodes and system.posix_acl_* xattrs")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	makeLogTree(t, src)
	must(t, unix.Mknod(filepath.Join(src, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	before := manifestOf(t, src)
	// The tree really has what the copy must keep (a test that can fail).
	for rel, want := range map[string]func(Entry) bool{
		"app/setuid":      func(e Entry) bool { return e.Mode == 0o4755 },
		"journal":         func(e Entry) bool { return e.Mode == 0o2755 && e.Xattrs["system.posix_acl_default"] != "" },
		"auth.log":        func(e Entry) bool { return e.Xattrs["system.posix_acl_access"] != "" },
		"app/app.log":     func(e Entry) bool { return e.UID == 1000 && e.Xattrs["user.origin"] != "" },
		"app/syslog.hard": func(e Entry) bool { return e.LinkTo == "" },
		"syslog":          func(e Entry) bool { return e.LinkTo == "app/syslog.hard" },
		"dangling":        func(e Entry) bool { return e.Type == "link" && e.Target == "/nonexistent/target" },
		"app/fifo":        func(e Entry) bool { return e.Type == "fifo" },
	} {
		if !want(before[rel]) {
			t.Errorf("test tree: %s = %+v", rel, before[rel])
		}
	}

	c := newCopier(false)
	if err := c.copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	if d := before.Diff(manifestOf(t, dst)); len(d) > 0 {
		t.Errorf("copy differs from the original:\n%q", d)
	}
	if d := cmp.Diff(before, manifestOf(t, src)); d != "" {
		t.Errorf("copying changed the original (-before +after):\n%s", d)
	}
	// Holes stay holes: 4 MiB apparent, a few KiB allocated.
	var st unix.Stat_t
	must(t, unix.Stat(filepath.Join(dst, "lastlog"), &st))
	if st.Size != 4<<20 || st.Blocks*512 > 64<<10 {
		t.Errorf("sparse copy: size %d, allocated %d bytes; want 4 MiB with holes", st.Size, st.Blocks*512)
	}
	// Hard links stay links.
	var a, b unix.Stat_t
	must(t, unix.Stat(filepath.Join(dst, "syslog"), &a))
	must(t, unix.Stat(filepath.Join(dst, "app/syslog.hard"), &b))
	if a.Ino != b.Ino {
		t.Errorf("hard link became two files")
	}
}

func TestCopyTreeDirsOnly(t *testing.T) {
	needRoot(t, "chown and system.posix_acl_* xattrs")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	makeLogTree(t, src)
	if err := newCopier(true).copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	want, err := buildManifest(src, manifestOpts{dirsOnly: true})
	must(t, err)
	got := manifestOf(t, dst)
	if d := want.Diff(got); len(d) > 0 {
		t.Errorf("skeleton differs from the original's directories:\n%q", d)
	}
	j := got["journal"]
	if j.Mode != 0o2755 || j.GID != 999 || j.Xattrs["system.posix_acl_default"] == "" {
		t.Errorf("journal directory = %+v, want 2755, group 999, with its default ACL", j)
	}
	if _, err := os.Lstat(filepath.Join(dst, "syslog")); err == nil {
		t.Errorf("skeleton has files")
	}
}
