package relocate

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

func TestProbe(t *testing.T) {
	needRoot(t, "loop devices")
	tests := []struct {
		name      string
		prepare   func(t *testing.T, dev string)
		wantBlank bool
		wantFS    string
		wantFound string
	}{
		{"blank", func(*testing.T, string) {}, true, "", ""},
		{"ext4", func(t *testing.T, dev string) { command(t, "mkfs.ext4", "-q", dev) }, false, "ext4", "blkid: filesystem ext4"},
		{"swap", func(t *testing.T, dev string) { command(t, "mkswap", dev) }, false, "swap", "swap"},
		{"dos partition table", func(t *testing.T, dev string) {
			cmd := exec.Command("sfdisk", "-q", dev)
			cmd.Stdin = strings.NewReader("label: dos\n,\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sfdisk: %v: %s", err, out)
			}
		}, false, "", "partition table dos"},
		{"unknown data at the start", func(t *testing.T, dev string) { writeAt(t, dev, 4096, "junk") }, false, "", "data in the first MiB"},
		{"data only at the end", func(t *testing.T, dev string) { writeAt(t, dev, (32<<20)-100, "md") }, false, "", "data in the last MiB"},
		{"LUKS magic", func(t *testing.T, dev string) { writeAt(t, dev, 0, "LUKS\xba\xbe") }, false, "crypto_LUKS", "magic: LUKS header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, _, _ := loopDevice(t, 32<<20)
			tt.prepare(t, dev)
			sig := Probe(context.Background(), dev)
			if sig.Blank != tt.wantBlank || sig.FSType != tt.wantFS || !strings.Contains(sig.String(), tt.wantFound) {
				t.Errorf("Probe = %+v, want blank %v, fs %q, found %q", sig, tt.wantBlank, tt.wantFS, tt.wantFound)
			}
		})
	}
}

func command(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeAt(t *testing.T, dev string, off int64, s string) {
	t.Helper()
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte(s), off)
	must(t, err)
	must(t, f.Close())
}

func deviceSum(t *testing.T, dev string) [32]byte {
	t.Helper()
	f, err := os.Open(dev)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// A blank EBS disk and an instance store that carries anything are never
// formatted, whatever relocate.format says.
func TestNeverFormat(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	tests := []struct {
		name, model string
		prepare     func(t *testing.T, dev string)
		wantPlan    string
		degraded    bool
	}{
		{"blank EBS", ModelEBS, func(*testing.T, string) {},
			"no instance store on this instance (/mnt stays on the root disk): nothing to relocate", false},
		{"instance store with swap", ModelInstanceStore, func(t *testing.T, dev string) { command(t, "mkswap", dev) },
			"instance store nvme1n1 is not blank", true},
		{"instance store with data", ModelInstanceStore, func(t *testing.T, dev string) { writeAt(t, dev, 8192, "x") },
			"instance store nvme1n1 is not blank (data in the first MiB (no known signature)): refusing to format or mount it", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, "")
			makeLogTree(t, root+"/var/log")
			dev, devnum, _ := loopDevice(t, 32<<20)
			tt.prepare(t, dev)
			fakeDisk(t, root, "nvme1n1", tt.model, devnum, dev)
			sum := deviceSum(t, dev)
			env := newEnv(t, root)
			env.Config.Relocate.Format = true
			res, planText, err := runStep(t, New(), env)
			if err != nil || len(res.Changed) != 0 || (len(res.Degraded) > 0) != tt.degraded {
				t.Errorf("result %+v, %v; want no change, degraded %v", res, err, tt.degraded)
			}
			if !strings.Contains(planText, tt.wantPlan) {
				t.Errorf("plan = %q, want it to contain %q", planText, tt.wantPlan)
			}
			if sum != deviceSum(t, dev) {
				t.Errorf("the device was written to")
			}
			if got := mountsAt(t, root+"/mnt"); len(got) != 0 {
				t.Errorf("mounted %v at /mnt", got)
			}
		})
	}
}

// The life of an instance-store instance: first boot (format, copy),
// reboot (data kept: mount again, no copy), stop/start (erased: format,
// skeleton only).
func TestLoopStoreLifecycle(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	for _, fs := range []string{"ext4", "xfs"} {
		t.Run(fs, func(t *testing.T) { testLifecycle(t, fs) })
	}
}

func testLifecycle(t *testing.T, fs string) {
	root := newRoot(t, "nitro")
	makeLogTree(t, root+"/var/log")
	before := manifestOf(t, root+"/var/log")
	dev, devnum, img := loopDevice(t, 512<<20) // xfs needs 300 MiB
	// The loop device stands for the first instance store disk; the fake
	// tree has nvme1n1 already, so use a name that sorts first.
	fakeDisk(t, root, "nvme0n2", ModelInstanceStore, devnum, dev)
	env := func() *stepEnv {
		e := newEnvFor(t, root, true)
		e.Config.Relocate.Filesystem = fs
		return e
	}

	// First boot: blank instance store, format on.
	res, planText, err := runStep(t, New(), env())
	if err != nil {
		t.Fatalf("first boot: %v", err)
	}
	for _, want := range []string{
		"note: 4 instance store devices (nvme0n2, nvme1n1, nvme2n1, nvme10n1): using the first, nvme0n2",
		"mkfs." + fs + " -L ec2boot-eph /dev/nvme0n2: instance store nvme0n2 (nvme model) is blank",
		"/var/log: copy ",
	} {
		if !strings.Contains(planText, want) {
			t.Errorf("first plan lacks %q:\n%s", want, planText)
		}
	}
	if len(res.Changed) != 2 || !strings.HasPrefix(res.Changed[0], "formatted instance store nvme0n2 as "+fs+"; mounted") {
		t.Errorf("first boot changes = %q", res.Changed)
	}
	uuid := command(t, "blkid", "-s", "UUID", "-o", "value", dev)
	if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
		t.Errorf("relocated /var/log differs: %q", d)
	}
	must(t, os.WriteFile(root+"/var/log/written-on-instance-store.log", []byte("kept across reboot"), 0o644))

	// Reboot: every mount is gone, the disk keeps its data.
	unmountUnder(t, root)
	res, planText, err = runStep(t, New(), env())
	if err != nil {
		t.Fatalf("reboot: %v", err)
	}
	if !strings.Contains(planText, "mount instance store nvme0n2 (nvme model, "+fs+") at /mnt") {
		t.Errorf("reboot plan:\n%s", planText)
	}
	if len(res.Changed) != 2 || !strings.Contains(res.Changed[1], "bind-mounted /mnt/ec2boot/var/log again (reboot") {
		t.Errorf("reboot changes = %q", res.Changed)
	}
	if got := command(t, "blkid", "-s", "UUID", "-o", "value", dev); got != uuid {
		t.Errorf("reboot reformatted the instance store: UUID %s -> %s", uuid, got)
	}
	if b, err := os.ReadFile(root + "/var/log/written-on-instance-store.log"); err != nil || string(b) != "kept across reboot" {
		t.Errorf("log written before the reboot: %q, %v", b, err)
	}
	if d := cmp.Diff([]string{fs + ":/ec2boot/var/log"}, mountsAt(t, root+"/var/log")); d != "" {
		t.Errorf("mounts after reboot (-want +got):\n%s", d)
	}

	// Stop/start: a new, erased disk.
	unmountUnder(t, root)
	must(t, os.Truncate(img, 0))
	must(t, os.Truncate(img, 512<<20))
	command(t, "losetup", "--set-capacity", dev)
	command(t, "blockdev", "--flushbufs", dev)
	res, planText, err = runStep(t, New(), env())
	if err != nil {
		t.Fatalf("stop/start: %v", err)
	}
	if !strings.Contains(planText, "mkfs."+fs) {
		t.Errorf("stop/start plan does not format:\n%s", planText)
	}
	if len(res.Changed) != 2 || !strings.Contains(res.Changed[1], "the instance store was erased (stop/start)") ||
		!strings.Contains(res.Changed[1], "is gone") {
		t.Errorf("stop/start changes = %q", res.Changed)
	}
	got := manifestOf(t, root+"/var/log")
	wantDirs, err := buildManifest(hiddenDir(t, root+"/var/log"), manifestOpts{dirsOnly: true})
	must(t, err)
	delete(got, "lost+found")
	if d := wantDirs.Diff(got); len(d) > 0 {
		t.Errorf("skeleton differs from the original's directories: %q", d)
	}
	if j := got["journal"]; j.Mode != 0o2755 || j.GID != 999 || j.Xattrs["system.posix_acl_default"] == "" {
		t.Errorf("journal directory in the skeleton = %+v", j)
	}
}

type stepEnv = step.Env

func newEnvFor(t *testing.T, root string, format bool) *stepEnv {
	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	env.Config.Relocate.Format = format
	return env
}

// hiddenDir returns a path to the original under the bind mount at orig,
// valid for the rest of the test.
func hiddenDir(t *testing.T, orig string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "below")
	must(t, os.MkdirAll(dir, 0o755))
	command(t, "mount", "--bind", filepath.Dir(orig), dir) // non-recursive: shows what is under mounts
	t.Cleanup(func() { command(t, "umount", "-l", dir) })
	return filepath.Join(dir, filepath.Base(orig))
}

// Xen-era types: disks have no model; only the metadata's ephemeral0
// mapping (sdb, seen as xvdb) makes a disk instance store.
func TestXenEphemeralHint(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	for _, tt := range []struct {
		hint []string
		want string
	}{
		{nil, "no instance store on this instance"},
		{[]string{"sdb"}, "mkfs.ext4 -L ec2boot-eph /dev/xvdb: instance store xvdb (imds ephemeral0) is blank"},
	} {
		t.Run(strings.Join(append([]string{"hint"}, tt.hint...), " "), func(t *testing.T) {
			root := newRoot(t, "")
			makeLogTree(t, root+"/var/log")
			before := manifestOf(t, root+"/var/log")
			dev, devnum, _ := loopDevice(t, 64<<20)
			must(t, os.MkdirAll(root+"/sys/block/xvdb", 0o755))
			must(t, os.MkdirAll(root+"/sys/dev/block", 0o755))
			must(t, os.Symlink("../../block/xvdb", root+"/sys/dev/block/"+devnum))
			must(t, os.Symlink(dev, root+"/dev/xvdb"))
			env := newEnvFor(t, root, true)
			env.Facts.InstanceStores = tt.hint
			res, planText, err := runStep(t, New(), env)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(planText, tt.want) {
				t.Errorf("plan lacks %q:\n%s", tt.want, planText)
			}
			relocated := len(mountsAt(t, root+"/var/log")) == 1
			if relocated != (tt.hint != nil) || len(res.Changed) != map[bool]int{true: 2}[relocated] {
				t.Errorf("relocated = %v, changes %q", relocated, res.Changed)
			}
			if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
				t.Errorf("/var/log differs: %q", d)
			}
		})
	}
}

// `ec2boot plan` says what it would format, mount and copy, and does none
// of it.
func TestPlanChangesNothing(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root := newRoot(t, "")
	makeLogTree(t, root+"/var/log")
	dev, devnum, _ := loopDevice(t, 64<<20)
	fakeDisk(t, root, "nvme1n1", ModelInstanceStore, devnum, dev)
	sum := deviceSum(t, dev)
	// cloud-init would mount ephemeral0 at /mnt too: plan says so.
	must(t, os.MkdirAll(root+"/etc/cloud", 0o755))
	must(t, os.WriteFile(root+"/etc/cloud/cloud.cfg", []byte("cloud_config_modules:\n  - mounts\n"), 0o644))
	env := newEnvFor(t, root, true)
	env.DryRun = true
	env.State, _ = state.Open(root+"/var/lib/ec2boot", "i-0123456789abcdef0", true)
	before := manifestOf(t, root)
	p, err := New().Plan(context.Background(), env)
	must(t, err)
	var b strings.Builder
	p.Describe(&b)
	for _, want := range []string{
		"mkfs.ext4 -L ec2boot-eph /dev/nvme1n1: instance store nvme1n1 (nvme model) is blank",
		"mount nvme1n1 at /mnt",
		"note: warning: cloud-init",
		"/var/log: copy 192.0 KiB in 19 entries to /mnt/ec2boot/var/log, verify by checksum, bind-mount it over /var/log",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
	if sum != deviceSum(t, dev) {
		t.Errorf("plan wrote to the device")
	}
	if d := before.Diff(manifestOf(t, root)); len(d) > 0 {
		t.Errorf("plan changed the tree: %q", d)
	}
	if got := mountsAt(t, root+"/mnt"); len(got) != 0 {
		t.Errorf("plan mounted %v", got)
	}
}
