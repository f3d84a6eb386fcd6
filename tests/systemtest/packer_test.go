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

// packerTool is the Packer `make tools` pins into .tools/bin (Debian's 1.6.6
// knows neither required_plugins nor the IMDS settings the template uses).
func packerTool(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), ".tools", "bin", "packer")
	if _, err := os.Stat(p); err != nil {
		msg := "packer 1.9 not in .tools/bin: make tools"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// packerOffline runs packer in the ami directory inside a network namespace
// of its own (only lo, nothing reachable), so validation provably needs no
// AWS and no plugin download, with the version check turned off. Plugins
// come from pluginDir only.
func packerOffline(t *testing.T) func(pluginDir string, args ...string) (string, error) {
	t.Helper()
	needRoot(t, "runs packer in an empty network namespace")
	packer := packerTool(t)
	ip := needTool(t, "ip", "apt-get install iproute2")
	ns := fmt.Sprintf("ec2boot-packer-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	run(t, 10*time.Second, ip, "netns", "add", ns)
	t.Cleanup(func() { _, _ = runErr(10*time.Second, nil, ip, "netns", "del", ns) })
	run(t, 10*time.Second, ip, "-n", ns, "link", "set", "lo", "up")
	home := t.TempDir()
	return func(pluginDir string, args ...string) (string, error) {
		script := `cd "$1" && shift && exec "$@"`
		full := append([]string{"netns", "exec", ns, "sh", "-c", script, "sh", filepath.Join(repoRoot(t), "ami"), packer}, args...)
		return runErr(time.Minute, []string{"CHECKPOINT_DISABLE=1", "HOME=" + home, "PACKER_PLUGIN_PATH=" + pluginDir}, ip, full...)
	}
}

// amazonPlugin installs the plugin `make tools` built into a fresh plugin
// directory with scripts/packer-plugin.sh, as CI does.
func amazonPlugin(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(repoRoot(t), ".tools", "bin", "packer-plugin-amazon")); err != nil {
		msg := "packer-plugin-amazon not in .tools/bin: make tools"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	run(t, time.Minute, filepath.Join(repoRoot(t), "scripts", "packer-plugin.sh"), dir)
	return dir
}

func TestPackerTemplate(t *testing.T) {
	packer := packerOffline(t)
	plugins := amazonPlugin(t)
	if out, err := packer(plugins, "version"); err != nil || !strings.HasPrefix(out, "Packer v1.") || strings.HasPrefix(out, "Packer v1.6") {
		t.Fatalf("packer version: %v\n%s", err, out)
	}
	dist := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		pkg := filepath.Join(dist, "ec2boot_1.2.3-1_"+arch+".deb")
		if err := os.WriteFile(pkg, []byte("stand-in: validate only checks that the file exists"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vars := []string{"-var", "version=1.2.3", "-var", "dist=" + dist}
	if out, err := packer(plugins, append(append([]string{"validate"}, vars...), "ec2boot.pkr.hcl")...); err != nil {
		t.Errorf("packer validate: %v\n%s", err, out)
	}
	if out, err := packer(plugins, "fmt", "-check", "-diff", "ec2boot.pkr.hcl"); err != nil {
		t.Errorf("packer fmt -check: the template is not in canonical form: %v\n%s", err, out)
	}
	// The check can fail: a package that does not exist is refused, for
	// either architecture.
	if err := os.Remove(filepath.Join(dist, "ec2boot_1.2.3-1_arm64.deb")); err != nil {
		t.Fatal(err)
	}
	out, err := packer(plugins, append(append([]string{"validate"}, vars...), "ec2boot.pkr.hcl")...)
	if err == nil || !strings.Contains(out, "ec2boot_1.2.3-1_arm64.deb") {
		t.Errorf("packer validate accepted a missing arm64 package: %v\n%s", err, out)
	}
	// Without the plugin installed the template is refused, not validated
	// by a builder that predates its settings.
	out, err = packer(t.TempDir(), append(append([]string{"validate"}, vars...), "ec2boot.pkr.hcl")...)
	if err == nil {
		t.Errorf("packer validate passed without the amazon plugin installed:\n%s", out)
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
	for _, want := range []string{
		`virtual_name = "ephemeral0"`, `script          = "provision.sh"`, `script          = "finalize.sh"`,
		`source  = "github.com/hashicorp/amazon"`, `http_tokens                 = "required"`, `imds_support = "v2.0"`,
		`name          = "amd64"`, `name          = "arm64"`, `architecture        = "arm64"`, `cloud-init status --wait`,
	} {
		if !strings.Contains(tpl, want) {
			t.Errorf("ec2boot.pkr.hcl lacks %s", want)
		}
	}
	if !regexp.MustCompile(`(?m)^\s*required_plugins\s*\{`).MatchString(tpl) {
		t.Error("ec2boot.pkr.hcl does not name its plugin in required_plugins")
	}
	if strings.Index(tpl, "cloud-init status --wait") > strings.Index(tpl, `"provision.sh"`) {
		t.Error("cloud-init status --wait must come before provision.sh")
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
}
