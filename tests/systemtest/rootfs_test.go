package systemtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flavour is a kind of base rootfs: Debian 12 minbase with systemd, as in a
// cloud image minus the kernel, plus the packages it names. Each is built
// once into the cache directory, then only read.
type flavour struct {
	name     string
	packages []string
	// overlays are directories under testdata laid over the image, in order;
	// enable lists the units they bring that start at boot.
	overlays []string
	enable   []string
}

var (
	// plain is the image most tests boot.
	plain = flavour{name: "rootfs-bookworm", packages: []string{"systemd", "systemd-sysv", "dbus"},
		overlays: []string{"image"}, enable: []string{"fake-ec2-dmi.service", "peer-app.service"}}
	// withCloudInit also has Debian's cloud-init, as EC2's Debian images do,
	// with its Ec2 datasource forced and a stand-in for HAProxy.
	withCloudInit = flavour{name: "rootfs-bookworm-cloud-init", packages: []string{"systemd", "systemd-sysv", "dbus", "cloud-init",
		// debootstrap does not resolve virtual packages: python3-cryptography
		// needs the cffi backend named.
		"python3-cffi-backend"},
		overlays: []string{"image", "image-cloud-init"}, enable: []string{"fake-ec2-dmi.service", "peer-app.service", "haproxy.service"}}
)

// baseRootfs returns the cached base rootfs of a flavour, debootstrapping it
// first when the cache has none. A lock file keeps parallel test processes
// from building it twice; a marker written last tells a complete build from
// an interrupted one, which is thrown away.
func baseRootfs(t *testing.T, f flavour) string {
	t.Helper()
	dir := cacheDir(t)
	needRoot(t, "debootstraps and boots a Debian rootfs")
	baseName, baseMarker := f.name, f.name+".complete"
	lock, err := os.OpenFile(filepath.Join(dir, baseName+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	root := filepath.Join(dir, baseName)
	if _, err := os.Stat(filepath.Join(dir, baseMarker)); err == nil {
		return root
	}
	debootstrap := needTool(t, "debootstrap", "apt-get install debootstrap")
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	mirror := debianMirror()
	t.Logf("debootstrapping Debian 12 into %s from %s (once per cache)", root, mirror)
	start := time.Now()
	run(t, 10*time.Minute, debootstrap, "--variant=minbase", "--include="+strings.Join(f.packages, ","), "bookworm", root, mirror)
	t.Logf("debootstrap took %s", time.Since(start).Round(time.Second))
	if err := os.WriteFile(filepath.Join(dir, baseMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// debianMirror is the mirror apt on this machine already uses.
func debianMirror() string {
	const fallback = "http://deb.debian.org/debian"
	f, err := os.Open("/etc/apt/sources.list.d/debian.sources")
	if err != nil {
		return fallback
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "URIs:"); ok {
			if fields := strings.Fields(v); len(fields) > 0 {
				return fields[0]
			}
		}
	}
	return fallback
}

// builtImage is one flavour's image, built once per test process.
type builtImage struct {
	once sync.Once
	path string
	log  string
	err  error
}

var (
	imagesMu sync.Mutex
	images   = map[string]*builtImage{}
)

// image returns a rootfs made like the AMI: the base rootfs copied, the
// real .deb installed by ami/provision.sh with the package's default
// config, the test fixtures (fake EC2 DMI, a faster timer) added, and
// ami/finalize.sh run last (its `ec2boot prepare-image --apply` must find
// the image clean). Built once per test process; containers boot it with
// --volatile=overlay, so it stays untouched.
func image(t *testing.T) string {
	t.Helper()
	return imageOf(t, plain)
}

// builtLog is what building a flavour's image printed.
func builtLog(f flavour) string {
	imagesMu.Lock()
	defer imagesMu.Unlock()
	if img, ok := images[f.name]; ok {
		return img.log
	}
	return ""
}

// imageOf is image made from another flavour of base rootfs.
func imageOf(t *testing.T, f flavour) string {
	t.Helper()
	base := baseRootfs(t, f)
	deb, _ := packages(t)
	imagesMu.Lock()
	img, ok := images[f.name]
	if !ok {
		img = &builtImage{}
		images[f.name] = img
	}
	imagesMu.Unlock()
	img.once.Do(func() {
		img.path = filepath.Join(scratch, "image-"+f.name)
		img.log, img.err = buildImage(t, f, base, deb, img.path)
	})
	if img.err != nil {
		t.Fatalf("building the image: %v\n%s", img.err, img.log)
	}
	return img.path
}

func buildImage(t *testing.T, f flavour, base, deb, dst string) (string, error) {
	var log strings.Builder
	step := func(name string, args ...string) error {
		out, err := runErr(5*time.Minute, nil, name, args...)
		fmt.Fprintf(&log, "$ %s %s\n%s", name, strings.Join(args, " "), out)
		return err
	}
	if err := step("cp", "-a", base, dst); err != nil {
		return log.String(), err
	}
	// What Packer uploads to /tmp; nspawn gives the container a fresh tmpfs
	// on /tmp, so this directory is bound there instead.
	root := repoRoot(t)
	upload := dst + ".upload"
	if err := os.MkdirAll(upload, 0o755); err != nil {
		return "", err
	}
	copies := map[string]string{
		deb: "ec2boot.deb",
		filepath.Join(root, "packaging", "config.toml"): "ec2boot-config.toml",
		filepath.Join(root, "ami", "provision.sh"):      "provision.sh",
		filepath.Join(root, "ami", "finalize.sh"):       "finalize.sh",
	}
	for src, name := range copies {
		if err := step("cp", src, filepath.Join(upload, name)); err != nil {
			return log.String(), err
		}
	}
	// Test fixtures: the flavour's directories under testdata are laid
	// over the rootfs.
	for _, o := range f.overlays {
		if err := step("cp", "-a", filepath.Join(root, "tests", "systemtest", "testdata", o)+"/.", dst); err != nil {
			return log.String(), err
		}
	}
	script := "sh -eu /tmp/provision.sh && systemctl enable " + strings.Join(f.enable, " ") + " && sh -eu /tmp/finalize.sh"
	out, err := nspawnCommand(dst, "", "--bind="+upload+":/tmp", "--pipe", "/bin/sh", "-c", script)
	fmt.Fprintf(&log, "$ (in the image) %s\n%s", script, out)
	return log.String(), err
}

// nspawnCommand runs systemd-nspawn (not booting) in a private mount
// namespace with the two workarounds the host needs: a tmpfs on
// /run/systemd/nspawn and no registration with a host systemd.
func nspawnCommand(rootfs, netns string, args ...string) (string, error) {
	net := "--private-network"
	if netns != "" {
		net = "--network-namespace-path=/run/netns/" + netns
	}
	full := append([]string{"-m", "--propagation", "private", "--", "sh", "-c", nspawnWrapper, "sh",
		"-q", "-D", rootfs, "--register=no", "--keep-unit", net}, args...)
	return runErr(5*time.Minute, []string{"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1"}, "unshare", full...)
}

// nspawnWrapper runs inside `unshare -m`: systemd-nspawn refuses to clean
// up its propagation directory unless it is on a tmpfs, and /run may not
// be one.
const nspawnWrapper = `mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn && exec systemd-nspawn "$@"`

// TestImage checks the image itself: the package installed by the AMI
// provisioning scripts, prepare-image satisfied, and the installed units
// verified against the rootfs.
func TestImage(t *testing.T) {
	img := image(t)
	for _, p := range []string{"/usr/bin/ec2boot", "/usr/lib/systemd/system/ec2boot.service",
		"/usr/lib/systemd/system/ec2boot-refresh.service",
		"/etc/systemd/system/multi-user.target.wants/ec2boot.service",
		"/etc/systemd/system/sysinit.target.wants/ec2boot-early.service",
		"/etc/systemd/system/timers.target.wants/ec2boot.timer",
		"/etc/systemd/system/multi-user.target.wants/ec2boot-leave.service",
		"/etc/ec2boot/config.toml"} {
		if _, err := os.Lstat(filepath.Join(img, p)); err != nil {
			t.Errorf("the image lacks %s: %v", p, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(img, "etc", "machine-id")); err != nil || len(strings.TrimSpace(string(b))) != 0 {
		t.Errorf("/etc/machine-id in the image = %q, %v; want it empty", b, err)
	}
	t.Logf("image build:\n%s", builtLog(plain))
	if log := builtLog(plain); !strings.Contains(log, "the image is safe to make") {
		t.Errorf("prepare-image --apply did not report a clean image:\n%s", log)
	}
	analyze := needTool(t, "systemd-analyze", "apt-get install systemd")
	out, err := runErr(time.Minute, nil, analyze, "verify", "--man=no", "--root="+img, "ec2boot.service", "ec2boot-early.service", "ec2boot-refresh.service", "ec2boot-leave.service", "ec2boot.timer")
	if err := verifyProblem(out, err); err != nil {
		t.Errorf("against the image: %v", err)
	}
}

// TestPackageUpgradeAndPurge runs the package's maintainer scripts for the
// other two cases on a copy of the image: an upgrade keeps the
// administrator's choice (a disabled timer stays disabled) and the local
// config, and a purge disables the units and removes state and config.
func TestPackageUpgradeAndPurge(t *testing.T) {
	img := image(t)
	deb, _ := packages(t)
	disk := filepath.Join(t.TempDir(), "disk")
	run(t, 5*time.Minute, "cp", "-a", img, disk)
	upload := filepath.Join(t.TempDir(), "upload")
	if err := os.MkdirAll(upload, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, time.Minute, "cp", deb, filepath.Join(upload, "ec2boot.deb"))
	script := `set -eu
systemctl disable ec2boot.timer
echo '# edited' >> /etc/ec2boot/config.toml
mkdir -p /var/lib/ec2boot && echo '{}' > /var/lib/ec2boot/facts.json
dpkg -i /tmp/ec2boot.deb
echo "after upgrade: timer $(systemctl is-enabled ec2boot.timer || true), service $(systemctl is-enabled ec2boot.service)"
tail -n 1 /etc/ec2boot/config.toml
dpkg --purge ec2boot
echo "after purge: service $(systemctl is-enabled ec2boot.service 2>&1 || true)"
for p in /usr/bin/ec2boot /etc/ec2boot/config.toml /var/lib/ec2boot /etc/systemd/system/multi-user.target.wants/ec2boot.service /etc/systemd/system/sysinit.target.wants/ec2boot-early.service; do
	[ -e "$p" ] && echo "left behind: $p"
done
true`
	out, err := nspawnCommand(disk, "", "--bind="+upload+":/tmp", "--pipe", "/bin/sh", "-c", script)
	if err != nil {
		t.Fatalf("upgrade and purge: %v\n%s", err, out)
	}
	t.Logf("upgrade and purge:\n%s", out)
	for _, want := range []string{"after upgrade: timer disabled, service enabled", "# edited"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(out, "left behind") || !strings.Contains(out, "after purge: service") || strings.Contains(out, "after purge: service enabled") {
		t.Errorf("purge did not clean up")
	}
}
