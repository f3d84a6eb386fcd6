package systemtest

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lintPackages runs scripts/lint-packages.sh (lintian and rpmlint, with the
// project's overrides) on the given packages.
func lintPackages(t *testing.T, pkgs ...string) (string, error) {
	return runErr(5*time.Minute, nil, filepath.Join(repoRoot(t), "scripts", "lint-packages.sh"), pkgs...)
}

// TestPackagesLintClean: lintian and rpmlint find nothing the overrides do
// not explain, in the packages `make package` builds.
func TestPackagesLintClean(t *testing.T) {
	needTool(t, "lintian", "apt-get install lintian")
	needTool(t, "rpmlint", "apt-get install rpmlint")
	deb, rpm := packages(t)
	if out, err := lintPackages(t, deb, rpm); err != nil {
		t.Errorf("scripts/lint-packages.sh: %v\n%s", err, out)
	}
}

// TestPackagesLintCatchesFaults: the same check fails on a package that lacks
// its copyright file, changelog and man page, as the packages once did.
func TestPackagesLintCatchesFaults(t *testing.T) {
	needTool(t, "lintian", "apt-get install lintian")
	nfpm := needTool(t, "nfpm", "make tools")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nfpm.yaml")
	bin := binary(t)
	if err := os.WriteFile(cfg, []byte("name: ec2boot\narch: amd64\nversion: 1.0.0\nmaintainer: x <x@example.org>\ndescription: test\ncontents:\n  - src: "+bin+"\n    dst: /usr/bin/ec2boot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, time.Minute, nfpm, "package", "--config", cfg, "--packager", "deb", "--target", dir+"/bad.deb")
	out, err := lintPackages(t, dir+"/bad.deb")
	if err == nil {
		t.Fatalf("scripts/lint-packages.sh accepted a package without copyright file:\n%s", out)
	}
	for _, tag := range []string{"no-copyright-file", "no-manual-page"} {
		if !strings.Contains(out, tag) {
			t.Errorf("lintian did not report %s:\n%s", tag, out)
		}
	}
}

// TestDebMetadata checks the fields, the documentation and the links inside
// it: every relative link in a shipped doc resolves to a shipped file.
func TestDebMetadata(t *testing.T) {
	dpkgDeb := needTool(t, "dpkg-deb", "apt-get install dpkg")
	deb, _ := packages(t)
	for field, want := range map[string]string{
		"Depends":    "systemd (>= 247)",
		"Recommends": "e2fsprogs | xfsprogs",
	} {
		if got := strings.TrimSpace(run(t, time.Minute, dpkgDeb, "-f", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	dir := t.TempDir()
	run(t, time.Minute, dpkgDeb, "-x", deb, dir)
	doc := filepath.Join(dir, "usr/share/doc/ec2boot")
	for _, f := range []string{"copyright", "changelog.Debian.gz", "README.md", "config.md",
		"../../man/man8/ec2boot.8.gz", "../../man/man5/ec2boot.toml.5.gz",
		"../../bash-completion/completions/ec2boot", "../../zsh/vendor-completions/_ec2boot",
		"../../lintian/overrides/ec2boot"} {
		if _, err := os.Stat(filepath.Join(doc, f)); err != nil {
			t.Errorf("not in the .deb: %v", err)
		}
	}
	copyright, err := os.ReadFile(filepath.Join(doc, "copyright"))
	if err != nil || !strings.Contains(string(copyright), "\nLicense: Apache-2.0\n") {
		t.Errorf("copyright does not name Apache-2.0 (%v)", err)
	}
	// Every Go module linked into the binary has its license in the file.
	info, err := buildinfo.ReadFile(filepath.Join(dir, "usr/bin/ec2boot"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range info.Deps {
		if !regexp.MustCompile(`(?m)^Files:.*\s` + regexp.QuoteMeta(dep.Path) + `/\*`).Match(copyright) {
			t.Errorf("copyright has no Files: stanza for %s, which the binary links", dep.Path)
		}
	}
	link := regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`)
	mds, _ := filepath.Glob(filepath.Join(doc, "*.md"))
	if len(mds) < 2 {
		t.Fatalf("docs in the .deb: %v", mds)
	}
	for _, md := range mds {
		b, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(doc, target)); err != nil {
				t.Errorf("%s links to %s, which the package does not ship", filepath.Base(md), target)
			}
		}
	}
}

// TestRpmMetadata checks the rpm's license, dependencies and documentation.
func TestRpmMetadata(t *testing.T) {
	rpm := needTool(t, "rpm", "apt-get install rpm")
	_, pkg := packages(t)
	if got := run(t, time.Minute, rpm, "-qp", "--nosignature", "--qf", "%{LICENSE}", pkg); got != "Apache-2.0" {
		t.Errorf("License: %q", got)
	}
	requires := run(t, time.Minute, rpm, "-qp", "--nosignature", "--requires", pkg)
	if !strings.Contains(requires, "systemd >= 247") {
		t.Errorf("Requires lacks systemd >= 247:\n%s", requires)
	}
	if rec := run(t, time.Minute, rpm, "-qp", "--nosignature", "--recommends", pkg); !strings.Contains(rec, "(e2fsprogs or xfsprogs)") {
		t.Errorf("Recommends: %q", rec)
	}
	docs := run(t, time.Minute, rpm, "-qp", "--nosignature", "--docfiles", pkg)
	for _, want := range []string{"/usr/share/doc/ec2boot/README.md", "/usr/share/man/man8/ec2boot.8.gz", "/usr/share/man/man5/ec2boot.toml.5.gz"} {
		if !strings.Contains(docs, want+"\n") {
			t.Errorf("%s is not a %%doc file:\n%s", want, docs)
		}
	}
	if lic := run(t, time.Minute, rpm, "-qp", "--nosignature", "--licensefiles", pkg); strings.TrimSpace(lic) != "/usr/share/licenses/ec2boot/LICENSE" {
		t.Errorf("license files: %q", lic)
	}
	if cl := run(t, time.Minute, rpm, "-qp", "--nosignature", "--changelog", pkg); !strings.Contains(cl, "1.2.3~test-1") {
		t.Errorf("changelog lacks the version:\n%s", cl)
	}
}

// TestArm64Packages cross-builds the binary for arm64, as `make package`
// does, and checks the packages' architecture, the binary's machine and lint.
func TestArm64Packages(t *testing.T) {
	dpkgDeb := needTool(t, "dpkg-deb", "apt-get install dpkg")
	rpmTool := needTool(t, "rpm", "apt-get install rpm")
	needTool(t, "lintian", "apt-get install lintian")
	needTool(t, "rpmlint", "apt-get install rpmlint")
	dir := t.TempDir()
	bin := filepath.Join(dir, "linux_arm64", "ec2boot")
	if out, err := runErr(10*time.Minute, []string{"CGO_ENABLED=0", "GOARCH=arm64"}, "go", buildArgs(repoRoot(t), bin)...); err != nil {
		t.Fatalf("GOARCH=arm64 go build: %v\n%s", err, out)
	}
	dist := filepath.Join(dir, "dist")
	env := []string{"ARCH=arm64", "EC2BOOT_BINARY=" + bin, "DIST=" + dist, "PATH=" + filepath.Join(repoRoot(t), ".tools", "bin") + ":" + os.Getenv("PATH")}
	if out, err := runErr(5*time.Minute, env, filepath.Join(repoRoot(t), "scripts", "package.sh"), "1.2.3~test"); err != nil {
		t.Fatalf("ARCH=arm64 scripts/package.sh: %v\n%s", err, out)
	}
	deb, rpm := filepath.Join(dist, "ec2boot_1.2.3~test-1_arm64.deb"), filepath.Join(dist, "ec2boot-1.2.3~test-1.aarch64.rpm")
	if got := strings.TrimSpace(run(t, time.Minute, dpkgDeb, "-f", deb, "Architecture")); got != "arm64" {
		t.Errorf(".deb Architecture: %q", got)
	}
	if got := run(t, time.Minute, rpmTool, "-qp", "--nosignature", "--qf", "%{ARCH}", rpm); got != "aarch64" {
		t.Errorf(".rpm arch: %q", got)
	}
	x := t.TempDir()
	run(t, time.Minute, dpkgDeb, "-x", deb, x)
	f, err := elf.Open(filepath.Join(x, "usr/bin/ec2boot"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("the arm64 .deb carries a %v binary", f.Machine)
	}
	if out, err := lintPackages(t, deb, rpm); err != nil {
		t.Errorf("scripts/lint-packages.sh on the arm64 packages: %v\n%s", err, out)
	}
}
