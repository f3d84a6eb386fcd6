package relocate

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

func needRoot(t *testing.T, why string) {
	t.Helper()
	testenv.Root(t, why)
}

// newRoot makes a --root directory with a fake sysfs tree from testdata and
// registers a cleanup that detaches every mount under it first.
func newRoot(t *testing.T, sysfs string) string {
	t.Helper()
	root := t.TempDir()
	t.Cleanup(func() { unmountUnder(t, root) })
	if sysfs != "" {
		src := filepath.Join("..", "..", "testdata", "relocate", "sysfs", sysfs, "sys")
		if out, err := exec.Command("cp", "-a", src, filepath.Join(root, "sys")).CombinedOutput(); err != nil {
			t.Fatalf("copy fake sysfs: %v: %s", err, out)
		}
	}
	for _, d := range []string{"mnt", "var/lib", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func unmountUnder(t *testing.T, root string) {
	tab, err := mountinfo.Self()
	if err != nil {
		t.Error(err)
		return
	}
	for i := len(tab) - 1; i >= 0; i-- {
		if isUnder(tab[i].MountPoint, root) {
			if err := unix.Unmount(tab[i].MountPoint, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", tab[i].MountPoint, err)
			}
		}
	}
}

func mustMount(t *testing.T, src, dst, fstype, data string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(src, dst, fstype, 0, data); err != nil {
		t.Fatalf("mount %s on %s: %v", src, dst, err)
	}
}

// fakeStoreTmpfs mounts a tmpfs at root/mnt and makes the fake sysfs say its
// device number is an NVMe disk of the given model.
func fakeStoreTmpfs(t *testing.T, root, size, model string) {
	t.Helper()
	mp := filepath.Join(root, "mnt")
	mustMount(t, "fake-instance-store", mp, "tmpfs", "size="+size+",mode=0755")
	var st unix.Stat_t
	if err := unix.Stat(mp, &st); err != nil {
		t.Fatal(err)
	}
	fakeDisk(t, root, "nvme1n1", model, fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)), "")
}

// fakeDisk adds a disk to the fake sysfs: its model, the device-number
// link, and (when node is set) /dev/name pointing at a real device node.
func fakeDisk(t *testing.T, root, name, model, devnum, node string) {
	t.Helper()
	dir := filepath.Join(root, "sys", "block", name, "device")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "model"), []byte(fmt.Sprintf("%-40s\n", model)), 0o644))
	links := filepath.Join(root, "sys", "dev", "block")
	must(t, os.MkdirAll(links, 0o755))
	must(t, os.Symlink("../../block/"+name, filepath.Join(links, devnum)))
	if node != "" {
		must(t, os.Symlink(node, filepath.Join(root, "dev", name)))
	}
}

// loopDevice attaches a new sparse image of size bytes and returns the
// device and its "major:minor". Loop devices are global: always detached.
func loopDevice(t *testing.T, size int64) (dev, devnum, img string) {
	t.Helper()
	needRoot(t, "loop devices")
	img = filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	dev = strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	var st unix.Stat_t
	must(t, unix.Stat(dev, &st))
	return dev, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)), img
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newEnv returns a step environment for root with the default config.
func newEnv(t *testing.T, root string) *step.Env {
	t.Helper()
	st, err := state.Open(filepath.Join(root, "var/lib/ec2boot"), "i-0123456789abcdef0", false)
	must(t, err)
	return &step.Env{
		Root:   hostfs.Root(root),
		Config: config.Default(),
		Facts:  &facts.Facts{InstanceID: "i-0123456789abcdef0"},
		State:  st,
		Log:    zerolog.New(zerolog.NewTestWriter(t)),
		Clock:  clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
	}
}

// runStep plans and applies, returning the plan text too.
func runStep(t *testing.T, s *Step, env *step.Env) (step.Result, string, error) {
	t.Helper()
	p, err := s.Plan(context.Background(), env)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var b strings.Builder
	p.Describe(&b)
	res, err := p.Apply(context.Background())
	return res, b.String(), err
}

// ACL tags and permissions of the system.posix_acl_* xattr format.
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
)

type aclEntry struct {
	tag, perm uint16
	id        uint32
}

func aclXattr(entries ...aclEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// journalACL is what systemd's tmpfiles gives /var/log/journal: read for
// the adm group, by default too.
func journalACL() []byte {
	return aclXattr(
		aclEntry{aclUserObj, 7, 0xffffffff}, aclEntry{aclGroupObj, 5, 0xffffffff},
		aclEntry{aclGroup, 5, 4}, aclEntry{aclMask, 5, 0xffffffff}, aclEntry{aclOther, 5, 0xffffffff})
}

// makeLogTree fills dir with what a copy must keep: owners, odd modes,
// setuid, ACLs, user xattrs, symlinks (also dangling), hard links, a sparse
// file, a FIFO, empty directories, and the journal directory.
func makeLogTree(t *testing.T, dir string) {
	t.Helper()
	w := func(rel, content string, mode uint32, uid, gid int) {
		p := filepath.Join(dir, rel)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o600))
		must(t, os.Lchown(p, uid, gid))
		must(t, unix.Chmod(p, mode))
	}
	must(t, os.MkdirAll(dir, 0o755))
	w("syslog", strings.Repeat("Jan  1 00:00:00 host kernel: line\n", 2000), 0o640, 0, 4)
	w("auth.log", "secret\n", 0o600, 0, 4)
	w("apt/history.log", "Start-Date: 2026-01-01\n", 0o644, 0, 0)
	w("app/app.log", "app\n", 0o640, 1000, 1000)
	w("app/setuid", "#!/bin/sh\n", 0o4755, 0, 0)
	w("weird name \n tab\t.log", "x\n", 0o644, 0, 0)
	must(t, os.MkdirAll(filepath.Join(dir, "empty/nested"), 0o700))
	must(t, os.Chown(filepath.Join(dir, "empty"), 1000, 1000))
	must(t, os.Symlink("syslog", filepath.Join(dir, "syslog.link")))
	must(t, os.Symlink("/nonexistent/target", filepath.Join(dir, "dangling")))
	must(t, os.Link(filepath.Join(dir, "syslog"), filepath.Join(dir, "app/syslog.hard")))
	must(t, unix.Mkfifo(filepath.Join(dir, "app/fifo"), 0o620))
	// A sparse file: 1 MiB hole, 5 bytes, 3 MiB hole.
	f, err := os.Create(filepath.Join(dir, "lastlog"))
	must(t, err)
	_, err = f.WriteAt([]byte("hello"), 1<<20)
	must(t, err)
	must(t, f.Truncate(4<<20))
	must(t, f.Close())
	must(t, unix.Lsetxattr(filepath.Join(dir, "app/app.log"), "user.origin", []byte("test"), 0))
	must(t, unix.Lsetxattr(filepath.Join(dir, "auth.log"), "system.posix_acl_access",
		aclXattr(aclEntry{aclUserObj, 6, 0xffffffff}, aclEntry{aclUser, 4, 1000}, aclEntry{aclGroupObj, 0, 0xffffffff},
			aclEntry{aclMask, 4, 0xffffffff}, aclEntry{aclOther, 0, 0xffffffff}), 0))
	j := filepath.Join(dir, "journal", "0123456789abcdef0123456789abcdef")
	must(t, os.MkdirAll(j, 0o755))
	for _, d := range []string{filepath.Dir(j), j} {
		must(t, os.Chown(d, 0, 999))
		must(t, unix.Lsetxattr(d, "system.posix_acl_access", journalACL(), 0))
		must(t, unix.Lsetxattr(d, "system.posix_acl_default", journalACL(), 0))
		must(t, unix.Chmod(d, 0o2755)) // after the ACL, which may clear setgid
	}
	w("journal/0123456789abcdef0123456789abcdef/system.journal", "LPKSHHRH", 0o640, 0, 999)
	// Times last: creating entries changes directory mtimes.
	old := time.Date(2020, 2, 3, 4, 5, 6, 7, time.UTC)
	must(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		ts := []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), unix.NsecToTimespec(old.UnixNano())}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// manifestOf builds a manifest or fails the test.
func manifestOf(t *testing.T, dir string) Manifest {
	t.Helper()
	m, err := BuildManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hiddenManifest reads the original under a bind mount at orig, through a
// detached clone of the mount below it.
func hiddenManifest(t *testing.T, orig string) Manifest {
	t.Helper()
	tab, err := mountinfo.Self()
	must(t, err)
	below, ok := tab.Below(orig)
	if !ok {
		t.Fatalf("no mount below %s", orig)
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, below.MountPoint, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	must(t, err)
	defer unix.Close(fd)
	rel, err := filepath.Rel(below.MountPoint, orig)
	must(t, err)
	return manifestOf(t, filepath.Join("/proc/self/fd", strconv.Itoa(fd), rel))
}

// mountsAt lists the sources (root inside the filesystem) mounted at p.
func mountsAt(t *testing.T, p string) []string {
	t.Helper()
	tab, err := mountinfo.Self()
	must(t, err)
	var out []string
	for _, m := range tab.At(p) {
		out = append(out, m.FSType+":"+m.Root)
	}
	sort.Strings(out)
	return out
}
