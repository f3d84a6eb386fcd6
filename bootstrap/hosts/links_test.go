package hosts

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// Under --root, an absolute link inside the tree resolves inside the tree.
// The link points at a name that exists only inside it, so that a writer
// following it on the host would fail instead of damaging anything.
func TestStepAbsoluteLinkResolvesInsideTheRoot(t *testing.T) {
	testenv.Root(t, "the link rule trusts only root's links")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "/etc/ec2boot-test-hosts-" + hex.EncodeToString(b)
	if _, err := os.Lstat(name); err == nil {
		t.Fatalf("%s exists on this machine", name)
	}
	if err := os.WriteFile(filepath.Join(root, name), []byte("127.0.0.1\tlocalhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(name, filepath.Join(root, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	_, r, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(root, name))
	if !strings.Contains(string(got), "127.0.0.1\tlocalhost\n") || !strings.Contains(string(got), "10.0.1.1\tdb-1.example.test") {
		t.Errorf("the link's target inside the root = %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(root, "etc/hosts")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link itself was replaced")
	}
	if _, err := os.Lstat(name); err == nil {
		t.Errorf("%s was created on the host", name)
	}
	if len(r.Changed) != 1 || !strings.Contains(r.Changed[0], "/etc/hosts -> "+name) {
		t.Errorf("changed = %q, want the target named", r.Changed)
	}
}

// /etc/hosts in a directory another account owns, planted by it, is
// refused in one line and its target left alone.
func TestStepRefusesAHostsLinkPlantedByAnotherAccount(t *testing.T) {
	testenv.Root(t, "plants the link as another account")
	const nobody = 65534
	root := t.TempDir()
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	shadow := filepath.Join(root, "shadow")
	if err := os.WriteFile(shadow, []byte("root:secret\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(root, "etc"), nobody, nobody); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ln", "-s", "../shadow", filepath.Join(root, "etc/hosts"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plant the link: %v: %s", err, out)
	}
	_, _, err := planApply(t, newEnv(t, root, mapResolver{"db-1.example.test": "10.0.1.1"}))
	if err == nil {
		t.Fatal("hosts wrote through a link another account planted")
	}
	msg := err.Error()
	for _, w := range []string{"/etc/hosts -> ../shadow", "/shadow", "uid 65534"} {
		if !strings.Contains(msg, w) {
			t.Errorf("refusal %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
	if got, _ := os.ReadFile(shadow); string(got) != "root:secret\n" {
		t.Errorf("target rewritten: %q", got)
	}
}
