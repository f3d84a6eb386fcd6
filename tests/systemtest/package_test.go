package systemtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The files every package must carry, with their modes.
var packaged = map[string]string{
	"/usr/bin/ec2boot":                                "-rwxr-xr-x",
	"/usr/lib/systemd/system/ec2boot.service":         "-rw-r--r--",
	"/usr/lib/systemd/system/ec2boot-early.service":   "-rw-r--r--",
	"/usr/lib/systemd/system/ec2boot-refresh.service": "-rw-r--r--",
	"/usr/lib/systemd/system/ec2boot.timer":           "-rw-r--r--",
	"/usr/lib/systemd/system/ec2boot-leave.service":   "-rw-r--r--",
	"/etc/ec2boot/config.toml":                        "-rw-r-----",
	"/var/lib/ec2boot":                                "drwx------",
}

func TestDebPackage(t *testing.T) {
	dpkgDeb := needTool(t, "dpkg-deb", "apt-get install dpkg")
	deb, _ := packages(t)
	listing := run(t, time.Minute, dpkgDeb, "-c", deb)
	modes := map[string]string{}
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
		modes[name] = f[0]
	}
	for p, mode := range packaged {
		if modes[p] != mode {
			t.Errorf("%s: mode %q in the .deb, want %q", p, modes[p], mode)
		}
	}
	tmpl, _ := filepath.Glob(filepath.Join(repoRoot(t), "templates", "*"))
	for _, src := range tmpl {
		if _, ok := modes["/usr/share/ec2boot/templates/"+filepath.Base(src)]; !ok {
			t.Errorf("template %s is not in the .deb", filepath.Base(src))
		}
	}
	info := run(t, time.Minute, dpkgDeb, "-I", deb)
	for _, want := range []string{"Package: ec2boot", "Version: 1.2.3~test-1", "postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
		}
	}
	conffiles := run(t, time.Minute, dpkgDeb, "-I", deb, "conffiles")
	if strings.TrimSpace(conffiles) != "/etc/ec2boot/config.toml" {
		t.Errorf("conffiles = %q, want the config file only", conffiles)
	}
	// The packaged units and config are the repository's, byte for byte.
	dir := t.TempDir()
	run(t, time.Minute, dpkgDeb, "-x", deb, dir)
	for src, dst := range map[string]string{
		"systemd/ec2boot.service":         "usr/lib/systemd/system/ec2boot.service",
		"systemd/ec2boot-early.service":   "usr/lib/systemd/system/ec2boot-early.service",
		"systemd/ec2boot.timer":           "usr/lib/systemd/system/ec2boot.timer",
		"systemd/ec2boot-refresh.service": "usr/lib/systemd/system/ec2boot-refresh.service",
		"systemd/ec2boot-leave.service":   "usr/lib/systemd/system/ec2boot-leave.service",
		"packaging/config.toml":           "etc/ec2boot/config.toml",
	} {
		want, err := os.ReadFile(filepath.Join(repoRoot(t), src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, dst))
		if err != nil || string(got) != string(want) {
			t.Errorf("/%s in the .deb differs from %s (%v)", dst, src, err)
		}
	}
}

func TestRpmPackage(t *testing.T) {
	rpm := needTool(t, "rpm", "apt-get install rpm (to inspect the .rpm)")
	_, pkg := packages(t)
	listing := run(t, time.Minute, rpm, "-qlvp", "--nosignature", pkg)
	for p, mode := range packaged {
		found := false
		for _, line := range strings.Split(listing, "\n") {
			f := strings.Fields(line)
			if len(f) >= 9 && f[len(f)-1] == p {
				found = true
				if f[0] != mode {
					t.Errorf("%s: mode %q in the .rpm, want %q", p, f[0], mode)
				}
			}
		}
		if !found {
			t.Errorf("%s is not in the .rpm:\n%s", p, listing)
		}
	}
	if cfg := run(t, time.Minute, rpm, "-qcp", "--nosignature", pkg); strings.TrimSpace(cfg) != "/etc/ec2boot/config.toml" {
		t.Errorf("config files in the .rpm = %q", cfg)
	}
	scripts := run(t, time.Minute, rpm, "-qp", "--scripts", "--nosignature", pkg)
	for _, want := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "systemctl enable ec2boot-early.service ec2boot.service ec2boot-leave.service ec2boot.timer"} {
		if !strings.Contains(scripts, want) {
			t.Errorf("rpm scripts lack %q:\n%s", want, scripts)
		}
	}
}

// TestDefaultConfig checks the configuration the packages install.
func TestDefaultConfig(t *testing.T) {
	out, err := runErr(time.Minute, nil, binary(t), "validate", filepath.Join(repoRoot(t), "packaging", "config.toml"))
	if err != nil || !strings.Contains(out, "0 warning") {
		t.Errorf("ec2boot validate packaging/config.toml: %v\n%s", err, out)
	}
}
