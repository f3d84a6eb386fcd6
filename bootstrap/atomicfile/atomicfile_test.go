package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

func TestWriteOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" with mode 0 means missing
		mode     os.FileMode
		data     string
		opt      Options
		want     Outcome
		wantMode uint32
		sameIno  bool
	}{
		{name: "new file gets 0644", data: "a\n", opt: Defaults(), want: Written, wantMode: 0o644},
		{name: "new file with mode", data: "a\n", opt: Options{Mode: 0o600, UID: -1, GID: -1}, want: Written, wantMode: 0o600},
		{name: "same bytes same mode", existing: "a\n", mode: 0o640, data: "a\n", opt: Defaults(), want: Unchanged, wantMode: 0o640, sameIno: true},
		{name: "mode-only drift repaired in place", existing: "a\n", mode: 0o666, data: "a\n", opt: Options{Mode: 0o644, UID: -1, GID: -1}, want: MetadataFixed, wantMode: 0o644, sameIno: true},
		{name: "content change keeps old mode", existing: "a\n", mode: 0o640, data: "b\n", opt: Defaults(), want: Written, wantMode: 0o640},
		{name: "content change sets mode", existing: "a\n", mode: 0o640, data: "b\n", opt: Options{Mode: 0o600, UID: -1, GID: -1}, want: Written, wantMode: 0o600},
		{name: "empty content", existing: "a\n", mode: 0o644, data: "", opt: Defaults(), want: Written, wantMode: 0o644},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			if tc.mode != 0 {
				writeFile(t, p, tc.existing, tc.mode)
			}
			before := idOf(t, p)
			got, err := Write(p, []byte(tc.data), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			after := idOf(t, p)
			if got != tc.want {
				t.Errorf("outcome = %v, want %v", got, tc.want)
			}
			if d := cmp.Diff(tc.data, readFile(t, p)); d != "" {
				t.Errorf("content (-want +got):\n%s", d)
			}
			if after.mode != tc.wantMode {
				t.Errorf("mode = %04o, want %04o", after.mode, tc.wantMode)
			}
			if tc.sameIno && (after.ino != before.ino || after.mtime != before.mtime) {
				t.Errorf("inode/mtime changed: %+v -> %+v", before, after)
			}
			if left := tempFiles(t, dir); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestNoChangeRewriteTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	if _, err := Write(p, []byte("x\n"), Defaults()); err != nil {
		t.Fatal(err)
	}
	before := idOf(t, p)
	dirBefore := idOf(t, dir)
	for i := 0; i < 3; i++ {
		got, err := Write(p, []byte("x\n"), Defaults())
		if err != nil || got != Unchanged {
			t.Fatalf("re-run %d: %v %v", i, got, err)
		}
	}
	if after := idOf(t, p); after != before {
		t.Errorf("file changed: %+v -> %+v", before, after)
	}
	if after := idOf(t, dir); after.mtime != dirBefore.mtime {
		t.Errorf("directory modified on a no-change run")
	}
}

func TestPreservesOwnerModeAndXattrs(t *testing.T) {
	testenv.Root(t, "chown to another user")
	dir := t.TempDir()
	p := filepath.Join(dir, "app.conf")
	writeFile(t, p, "old\n", 0o600)
	if err := os.Chown(p, 1000, 1001); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(p, "user.x", []byte("keep me"), 0); errors.Is(err, unix.ENOTSUP) {
		testenv.Missing(t, "the temporary directory's filesystem has no user xattrs: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	// trusted.* stands in for security.selinux (same privileged-namespace
	// path) on machines without SELinux.
	trusted := unix.Setxattr(p, "trusted.label", []byte("system_u:object_r:net_conf_t:s0"), 0) == nil
	before := idOf(t, p)
	got, err := Write(p, []byte("new\n"), Defaults())
	if err != nil || got != Written {
		t.Fatalf("Write = %v, %v", got, err)
	}
	if v, err := getXattr(p, "trusted.label"); trusted && (err != nil || string(v) != "system_u:object_r:net_conf_t:s0") {
		t.Errorf("trusted.label = %q, %v", v, err)
	}
	after := idOf(t, p)
	if after.ino == before.ino {
		t.Errorf("expected a new inode (atomic replace)")
	}
	if after.mode != 0o600 || after.uid != 1000 || after.gid != 1001 {
		t.Errorf("metadata = %04o %d:%d, want 0600 1000:1001", after.mode, after.uid, after.gid)
	}
	v, err := getXattr(p, "user.x")
	if err != nil || string(v) != "keep me" {
		t.Errorf("user.x = %q, %v", v, err)
	}
	// Owner drift alone is repaired without a rewrite.
	if err := os.Chown(p, 0, 0); err != nil {
		t.Fatal(err)
	}
	mid := idOf(t, p)
	got, err = Write(p, []byte("new\n"), Options{UID: 1000, GID: 1001})
	if err != nil || got != MetadataFixed {
		t.Fatalf("Write = %v, %v", got, err)
	}
	fin := idOf(t, p)
	if fin.ino != mid.ino || fin.mtime != mid.mtime || fin.uid != 1000 || fin.gid != 1001 || fin.mode != 0o600 {
		t.Errorf("owner repair: %+v -> %+v", mid, fin)
	}
}

func TestExpectDetectsEditSinceRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	writeFile(t, p, "one\n", 0o644)
	_, snap, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, "someone else's edit\n", 0o644)
	opt := Defaults()
	opt.Expect = snap
	if _, err := Write(p, []byte("ours\n"), opt); !errors.Is(err, ErrChangedUnderneath) {
		t.Fatalf("err = %v, want ErrChangedUnderneath", err)
	}
	if got := readFile(t, p); got != "someone else's edit\n" {
		t.Errorf("their edit was lost: %q", got)
	}
	// A missing file that appears meanwhile is a change too.
	q := filepath.Join(dir, "new")
	_, snap, _ = Read(q)
	writeFile(t, q, "created meanwhile\n", 0o644)
	opt.Expect = snap
	if _, err := Write(q, []byte("ours\n"), opt); !errors.Is(err, ErrChangedUnderneath) {
		t.Fatalf("err = %v, want ErrChangedUnderneath", err)
	}
}

func TestChangeBetweenWriteAndRename(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	writeFile(t, p, "one\n", 0o644)
	_, snap, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	opt := Defaults()
	opt.Expect = snap
	opt.beforeRename = func(string) {
		// Another tool replaces the file while our temp is staged.
		writeFile(t, p+".other", "cloud-init was here\n", 0o644)
		if err := os.Rename(p+".other", p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Write(p, []byte("ours\n"), opt); !errors.Is(err, ErrChangedUnderneath) {
		t.Fatalf("err = %v, want ErrChangedUnderneath", err)
	}
	if got := readFile(t, p); got != "cloud-init was here\n" {
		t.Errorf("content = %q", got)
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCheckRefusalKeepsTarget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nginx.conf")
	writeFile(t, p, "good\n", 0o644)
	before := idOf(t, p)
	var staged string
	opt := Defaults()
	opt.Check = func(s string) error {
		staged = s
		b, err := os.ReadFile(s)
		if err != nil || string(b) != "bad\n" {
			t.Errorf("staged file holds %q, %v", b, err)
		}
		return errors.New("syntax error")
	}
	_, err := Write(p, []byte("bad\n"), opt)
	if err == nil || !strings.Contains(err.Error(), "syntax error") || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v", err)
	}
	if filepath.Dir(staged) != dir || !strings.Contains(staged, TempMarker) {
		t.Errorf("staged at %q, want beside the target", staged)
	}
	if after := idOf(t, p); after != before || readFile(t, p) != "good\n" {
		t.Errorf("target changed")
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCleanStaleRemovesOnlyOurs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	ours := []string{".hosts" + TempMarker + "0123456789ab", ".hosts" + TempMarker + "ffffffffffff"}
	keep := []string{
		".hosts" + TempMarker + "notes",          // wrong suffix
		".hosts" + TempMarker + "0123456789AB",   // not our lowercase hex
		".hosts" + TempMarker + "0123456789abcd", // too long
		".other" + TempMarker + "0123456789ab",   // another file's temp
		"hosts.bak", ".hosts.swp",
	}
	for _, n := range append(append([]string{}, ours...), keep...) {
		writeFile(t, filepath.Join(dir, n), "x", 0o600)
	}
	if err := os.Mkdir(filepath.Join(dir, ".hosts"+TempMarker+"aaaaaaaaaaaa"), 0o700); err != nil {
		t.Fatal(err)
	}
	keep = append(keep, ".hosts"+TempMarker+"aaaaaaaaaaaa") // a directory: not ours
	removed, err := CleanStale(p)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range ours {
		want = append(want, filepath.Join(dir, n))
	}
	if d := cmp.Diff(want, removed); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
	for _, n := range keep {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed", n)
		}
	}
}

// TestKillBetweenTempWriteAndRename kills a writer process right before its
// rename; the original survives and the next Write converges and removes
// only the stale temporary file.
func TestKillBetweenTempWriteAndRename(t *testing.T) {
	dir := os.Getenv("ATOMICFILE_KILL_DIR")
	if os.Getenv(childEnv) == t.Name() {
		opt := Defaults()
		opt.beforeRename = func(string) { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
		_, _ = Write(filepath.Join(dir, "hosts"), []byte("new\n"), opt)
		t.Fatal("not killed")
		return
	}
	dir = t.TempDir()
	p := filepath.Join(dir, "hosts")
	writeFile(t, p, "old\n", 0o644)
	lookalike := filepath.Join(dir, ".hosts.ec2boot-tmp-keep")
	writeFile(t, lookalike, "not ours", 0o600)
	t.Setenv("ATOMICFILE_KILL_DIR", dir)
	t.Setenv(childEnv, t.Name())
	err := runSelf(t)
	var ee interface{ Sys() any }
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed: %v", err)
	}
	if got := readFile(t, p); got != "old\n" {
		t.Fatalf("original damaged: %q", got)
	}
	var stale []string
	for _, n := range tempFiles(t, dir) {
		if isOurTemp(n, ".hosts"+TempMarker) {
			stale = append(stale, n)
		}
	}
	if len(stale) != 1 {
		t.Fatalf("want one stale temp after the kill, have %v", tempFiles(t, dir))
	}
	got, err := Write(p, []byte("new\n"), Defaults())
	if err != nil || got != Written || readFile(t, p) != "new\n" {
		t.Fatalf("next run: %v %v", got, err)
	}
	if d := cmp.Diff([]string{".hosts.ec2boot-tmp-keep"}, tempFiles(t, dir)); d != "" {
		t.Errorf("left in dir (-want +got):\n%s", d)
	}
}

func runSelf(t *testing.T) error {
	t.Helper()
	cmd := execSelf(t)
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	return err
}

// The writer follows no link: destinations are resolved, and the link rule
// applied, by hostfs.Root.Dest before they get here. A link found at write
// time, at the file or on the way to it, was planted since.
func TestSymlinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	writeFile(t, real, "old\n", 0o640)
	if err := os.Symlink("real", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "sublink")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		filepath.Join(dir, "link"),
		filepath.Join(dir, "sublink", "real"),
		filepath.Join(dir, "sublink", "new"),
	} {
		if _, err := Write(p, []byte("new\n"), Defaults()); !errors.Is(err, ErrSymlink) {
			t.Errorf("Write(%s) err = %v, want ErrSymlink", p, err)
		}
	}
	if readFile(t, real) != "old\n" {
		t.Errorf("target written through a link")
	}
	// Nor is a link read through: plan's diff would show another file.
	if _, _, err := Read(filepath.Join(dir, "link")); !errors.Is(err, ErrSymlink) {
		t.Errorf("Read through a link: err = %v, want ErrSymlink", err)
	}
	if _, err := Inspect(filepath.Join(dir, "sublink", "real"), []byte("new\n"), Defaults()); !errors.Is(err, ErrSymlink) {
		t.Errorf("Inspect through a linked directory: err = %v, want ErrSymlink", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "new")); err == nil {
		t.Errorf("file created through a linked directory")
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir, []byte("x"), Defaults()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("err = %v", err)
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	pv, err := Inspect(p, []byte("a"), Defaults())
	if err != nil || pv.Outcome != Written || pv.Exists {
		t.Fatalf("missing: %+v %v", pv, err)
	}
	writeFile(t, p, "a", 0o666)
	before := idOf(t, p)
	tests := []struct {
		data string
		opt  Options
		want Outcome
	}{
		{"a", Defaults(), Unchanged},
		{"a", Options{Mode: 0o644, UID: -1, GID: -1}, MetadataFixed},
		{"b", Defaults(), Written},
	}
	for _, tc := range tests {
		pv, err := Inspect(p, []byte(tc.data), tc.opt)
		if err != nil || pv.Outcome != tc.want || string(pv.Old) != "a" || pv.OldMode != 0o666 {
			t.Errorf("Inspect(%q, %+v) = %+v, %v; want %v", tc.data, tc.opt, pv, err, tc.want)
		}
	}
	if idOf(t, p) != before {
		t.Errorf("Inspect changed the file")
	}
}
