package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

func execSelf(t *testing.T) *exec.Cmd {
	return exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
}

func TestENOSPCLeavesTargetIntact(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	dir := t.TempDir()
	testenv.Mount(t, "tmpfs", dir, "tmpfs", 0, "size=64k")
	p := filepath.Join(dir, "app.conf")
	writeFile(t, p, "old content\n", 0o644)
	before := idOf(t, p)
	big := []byte(strings.Repeat("x", 256*1024))
	_, err := Write(p, big, Defaults())
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("error does not name path and cause: %v", err)
	}
	if readFile(t, p) != "old content\n" || idOf(t, p) != before {
		t.Errorf("target changed")
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestReadOnlyMountLeavesTargetIntact(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	dir := t.TempDir()
	testenv.Mount(t, "tmpfs", dir, "tmpfs", 0, "size=1m")
	p := filepath.Join(dir, "hosts")
	writeFile(t, p, "old\n", 0o666)
	if err := syscall.Mount(dir, dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	_, err := Write(p, []byte("new\n"), Defaults())
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want EROFS naming %s", err, p)
	}
	// Mode drift on a read-only filesystem fails the same clear way.
	_, err = Write(p, []byte("old\n"), Options{Mode: 0o644, UID: -1, GID: -1})
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("err = %v, want EROFS", err)
	}
	if readFile(t, p) != "old\n" {
		t.Errorf("target changed")
	}
}

func TestBindMountedSingleFile(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "host-side-hosts")
	etc := filepath.Join(dir, "etc")
	if err := os.Mkdir(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(etc, "hosts")
	writeFile(t, src, "127.0.0.1 localhost\n", 0o644)
	writeFile(t, p, "", 0o644)
	testenv.Mount(t, src, p, "", syscall.MS_BIND, "")

	if mp, err := IsMountPoint(p); err != nil || !mp {
		t.Fatalf("IsMountPoint = %v, %v", mp, err)
	}
	if mp, err := mountinfoHas(p); err != nil || !mp {
		t.Fatalf("mountinfo fallback = %v, %v", mp, err)
	}
	if mp, err := IsMountPoint(src); err != nil || mp {
		t.Fatalf("source IsMountPoint = %v, %v", mp, err)
	}
	// rename onto it really fails; that is why Write must not try.
	tmp := filepath.Join(etc, "x")
	writeFile(t, tmp, "y", 0o644)
	if err := os.Rename(tmp, p); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("rename onto a bind mount: %v, want EBUSY", err)
	}
	os.Remove(tmp)

	before := idOf(t, p)
	pv, err := Inspect(p, []byte("new\n"), Defaults())
	if err != nil || !pv.InPlace {
		t.Errorf("Inspect = %+v, %v", pv, err)
	}
	checked := false
	opt := Defaults()
	opt.Check = func(s string) error { checked = true; return nil }
	got, err := Write(p, []byte("127.0.0.1 localhost\n10.0.0.1 db\n"), opt)
	if err != nil || got != WrittenInPlace {
		t.Fatalf("Write = %v, %v", got, err)
	}
	if !checked {
		t.Errorf("check did not run")
	}
	if after := idOf(t, p); after.ino != before.ino {
		t.Errorf("inode changed on in-place write")
	}
	if got := readFile(t, src); got != "127.0.0.1 localhost\n10.0.0.1 db\n" {
		t.Errorf("bind source = %q", got)
	}
	// Shorter content truncates.
	if _, err := Write(p, []byte("short\n"), Defaults()); err != nil || readFile(t, src) != "short\n" {
		t.Fatalf("shrink: %v %q", err, readFile(t, src))
	}
	before = idOf(t, p)
	if got, err := Write(p, []byte("short\n"), Defaults()); err != nil || got != Unchanged {
		t.Fatalf("second run = %v, %v", got, err)
	}
	if idOf(t, p) != before {
		t.Errorf("no-change run touched the file")
	}
	if left := tempFiles(t, etc); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBindMountedSingleFileFull(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	dir := t.TempDir()
	testenv.Mount(t, "tmpfs", dir, "tmpfs", 0, "size=64k")
	src := filepath.Join(dir, "src")
	p := filepath.Join(dir, "target")
	writeFile(t, src, "old\n", 0o644)
	writeFile(t, p, "", 0o644)
	testenv.Mount(t, src, p, "", syscall.MS_BIND, "")
	_, err := Write(p, []byte(strings.Repeat("x", 256*1024)), Defaults())
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	if got := readFile(t, src); got != "old\n" {
		t.Errorf("in-place target damaged by a full disk: %d bytes", len(got))
	}
}
