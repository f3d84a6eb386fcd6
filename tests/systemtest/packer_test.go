package systemtest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// packerOffline runs packer in the ami directory inside a network namespace
// of its own (only lo, nothing reachable), so validation provably needs no
// AWS and no plugin download, with the version check turned off.
func packerOffline(t *testing.T) func(args ...string) (string, error) {
	t.Helper()
	needRoot(t, "runs packer in an empty network namespace")
	packer := needTool(t, "packer", "apt-get install packer (Debian's 1.6.6)")
	ip := needTool(t, "ip", "apt-get install iproute2")
	ns := fmt.Sprintf("ec2boot-packer-%d", os.Getpid())
	run(t, 10*time.Second, ip, "netns", "add", ns)
	t.Cleanup(func() { _, _ = runErr(10*time.Second, nil, ip, "netns", "del", ns) })
	run(t, 10*time.Second, ip, "-n", ns, "link", "set", "lo", "up")
	home := t.TempDir()
	return func(args ...string) (string, error) {
		script := `cd "$1" && shift && exec "$@"`
		full := append([]string{"netns", "exec", ns, "sh", "-c", script, "sh", filepath.Join(repoRoot(t), "ami"), packer}, args...)
		return runErr(time.Minute, []string{"CHECKPOINT_DISABLE=1", "HOME=" + home}, ip, full...)
	}
}

func TestPackerTemplate(t *testing.T) {
	packer := packerOffline(t)
	pkg := filepath.Join(t.TempDir(), "ec2boot_1.2.3-1_amd64.deb")
	if err := os.WriteFile(pkg, []byte("stand-in: validate only checks that the file exists"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := packer("validate", "-var", "package="+pkg, "ec2boot.pkr.hcl"); err != nil {
		t.Errorf("packer validate: %v\n%s", err, out)
	}
	if out, err := packer("fmt", "-check", "-diff", "ec2boot.pkr.hcl"); err != nil {
		t.Errorf("packer fmt -check: the template is not in canonical form: %v\n%s", err, out)
	}
	// The check can fail: a package that does not exist is refused.
	out, err := packer("validate", "-var", "package="+pkg+".missing", "ec2boot.pkr.hcl")
	if err == nil || !strings.Contains(out, ".missing") {
		t.Errorf("packer validate accepted a missing package file: %v\n%s", err, out)
	}
}

// TestPackerTemplateContent checks what the template must do, beyond what
// validate can see.
func TestPackerTemplateContent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "ami", "ec2boot.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	tpl := string(b)
	for _, want := range []string{`virtual_name = "ephemeral0"`, `script          = "provision.sh"`, `script          = "finalize.sh"`, `"require-imdsv2.sh"`} {
		if !strings.Contains(tpl, want) {
			t.Errorf("ec2boot.pkr.hcl lacks %s", want)
		}
	}
	if regexp.MustCompile(`(?m)^\s*required_plugins\s*[{=]`).MatchString(tpl) {
		t.Error("ec2boot.pkr.hcl uses required_plugins, which Packer 1.6 rejects")
	}
	if strings.Index(tpl, `"finalize.sh"`) < strings.Index(tpl, `"provision.sh"`) {
		t.Error("finalize.sh (prepare-image) must be the last provisioner")
	}
	fin, err := os.ReadFile(filepath.Join(repoRoot(t), "ami", "finalize.sh"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(fin)), "\n")
	if last := lines[len(lines)-1]; last != "ec2boot prepare-image --apply" {
		t.Errorf("finalize.sh ends with %q, want ec2boot prepare-image --apply", last)
	}
	imds, err := os.ReadFile(filepath.Join(repoRoot(t), "ami", "require-imdsv2.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(imds), "--imds-support v2.0") {
		t.Error("require-imdsv2.sh does not register the image as IMDSv2-only")
	}
}
