package atomicfile

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

const childEnv = "ATOMICFILE_TEST_CHILD"

// inChild re-runs the current test in a child process (optionally in a
// private mount namespace) and reports whether we are that child. The parent
// fails when the child fails. Unsharing inside a running test would affect
// one OS thread only, hence the re-exec.
func inChild(t *testing.T, mountNS bool) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if mountNS && os.Geteuid() != 0 {
		testenv.Missing(t, "needs root: private mount namespace")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	if mountNS {
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	}
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return false
}

func mount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", source, target, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(target, syscall.MNT_DETACH) })
}

type fileID struct {
	ino    uint64
	mtime  syscall.Timespec
	ctime  syscall.Timespec
	mode   uint32
	uid    uint32
	gid    uint32
	exists bool
}

func idOf(t *testing.T, path string) fileID {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fileID{}
	}
	return fileID{ino: st.Ino, mtime: st.Mtim, ctime: st.Ctim, mode: st.Mode & 0o7777, uid: st.Uid, gid: st.Gid, exists: true}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if len(e.Name()) > 0 && e.Name()[0] == '.' {
			out = append(out, e.Name())
		}
	}
	return out
}
