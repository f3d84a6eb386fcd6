package hostfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// A mount goes onto the directory resolved, never through a link that
// appeared on the way since.
func TestMountOntoRefusesALinkOnTheWay(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "var")); err != nil {
		t.Fatal(err)
	}
	err := MountOnto("tmpfs", filepath.Join(dir, "var/log"), "tmpfs", 0, "size=64k")
	if !errors.Is(err, ErrLinkOnTheWay) {
		t.Errorf("through a link: err = %v, want ErrLinkOnTheWay", err)
	}
	if isMounted(t, real) {
		t.Errorf("something was mounted through the link")
	}
	target := filepath.Join(real, "log")
	if err := MountOnto("tmpfs", target, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("plain directory: %v", err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)
	if !isMounted(t, real) {
		t.Errorf("tmpfs not mounted at %s", target)
	}
}

// isMounted reports whether dir/log is on another filesystem than dir.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	var a, b unix.Stat_t
	if err := unix.Stat(dir, &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(dir, "log"), &b); err != nil {
		t.Fatal(err)
	}
	return a.Dev != b.Dev
}
