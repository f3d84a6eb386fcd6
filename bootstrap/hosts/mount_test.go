package hosts

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// TestStepContainerBindMountedHosts: a container's /etc/hosts is a file
// bind-mounted from the host; the block is written into it in place, the
// host-side file sees it, and a second run changes nothing.
func TestStepContainerBindMountedHosts(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	hostSide := filepath.Join(t.TempDir(), "container-hosts")
	os.WriteFile(hostSide, []byte("127.0.0.1\tlocalhost\n172.17.0.2\tabc123\n"), 0o644)
	target := filepath.Join(root, "etc/hosts")
	os.WriteFile(target, nil, 0o644)
	if err := syscall.Mount(hostSide, target, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(target, syscall.MNT_DETACH) })

	desc, res, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, "mount point: it will be rewritten in place") || len(res.Changed) != 1 || !strings.Contains(res.Changed[0], "in place") {
		t.Errorf("plan/result do not say in place:\n%s\n%q", desc, res.Changed)
	}
	b, _ := os.ReadFile(hostSide)
	if !strings.HasPrefix(string(b), "127.0.0.1\tlocalhost\n172.17.0.2\tabc123\n# BEGIN ec2boot") || !strings.Contains(string(b), "10.0.1.1\tdb-1.example.test\n") {
		t.Errorf("host-side file = %q", b)
	}
	before := stat(t, target)
	desc, res, err = planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"}))
	if err != nil || desc != "" || len(res.Changed) != 0 {
		t.Fatalf("second run: %q %+v %v", desc, res, err)
	}
	if after := stat(t, target); after.Mtim != before.Mtim || after.Ino != before.Ino {
		t.Errorf("second run touched the file")
	}
}
