package testenv

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// mountNSEnv marks the child that InMountNS starts; its value is the name
// of the test the child runs.
const mountNSEnv = "EC2BOOT_TEST_MOUNTNS_CHILD"

// InMountNS re-runs the calling test, alone, in a child process with a
// mount namespace of its own (Go makes every mount in it private), so
// nothing the test mounts is seen outside it and all of it vanishes when
// the child exits. It reports whether the caller is that child, which then
// runs the test body; the parent returns false, having failed unless the
// child passed (and skipped when the child skipped). Unsharing inside a
// running test would move one OS thread only, hence the re-run. Needs
// root.
func InMountNS(t *testing.T) bool {
	t.Helper()
	if os.Getenv(mountNSEnv) == t.Name() {
		return true
	}
	Root(t, "a private mount namespace")
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), mountNSEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	t.Logf("in a private mount namespace:\n%s", out)
	switch {
	case err != nil:
		t.Fatalf("the test in a private mount namespace: %v", err)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()):
		t.Skip("skipped in the private mount namespace (see its output above)")
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatal("the test did not pass in the private mount namespace")
	}
	return false
}

// Mount mounts source on target for the rest of the test (in the
// namespace InMountNS made) and detaches it when the test ends.
func Mount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", source, target, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(target, syscall.MNT_DETACH) })
}
