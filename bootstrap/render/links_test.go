package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

const nobody = 65534

// plantAs creates a symbolic link as another account, the way an
// application's user would in a directory it owns.
func plantAs(t *testing.T, uid int, target, link string) {
	t.Helper()
	cmd := exec.Command("ln", "-s", target, link)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plant %s -> %s as uid %d: %v: %s", link, target, uid, err, out)
	}
}

// openToOthers lets another account reach the fixture's tree, as /etc is
// reachable on a real machine.
func openToOthers(t *testing.T, root string) {
	t.Helper()
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// An application account that owns /etc/app plants peers.env -> the shadow
// file: the render step must refuse with one line, write nothing and leave
// the target as it was. The link is relative, so that even a writer that
// followed it would only reach the fixture's own "shadow".
func TestStepRefusesALinkPlantedByAnotherAccount(t *testing.T) {
	testenv.Root(t, "plants the link as another account")
	fx := newFixture(t)
	openToOthers(t, fx.root)
	shadow := filepath.Join(fx.root, "etc/shadow")
	if err := os.WriteFile(shadow, []byte("root:$6$secret:20000::::::\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	before := fx.stat(t, "/etc/shadow")
	if err := os.Chown(filepath.Join(fx.root, "etc/app"), nobody, nobody); err != nil {
		t.Fatal(err)
	}
	plantAs(t, nobody, "../shadow", filepath.Join(fx.root, "etc/app/peers.env"))

	_, res, err := fx.run(t)
	if err == nil {
		t.Fatal("render wrote through a link another account planted")
	}
	var refusals []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.Contains(l, "/etc/app/peers.env") {
			refusals = append(refusals, l)
		}
	}
	if len(refusals) != 1 {
		t.Fatalf("want one line about the link, got %q", refusals)
	}
	for _, w := range []string{"/etc/app/peers.env -> ../shadow", "/etc/shadow", "uid 65534"} {
		if !strings.Contains(refusals[0], w) {
			t.Errorf("refusal %q lacks %q", refusals[0], w)
		}
	}
	if got := fx.read(t, "/etc/shadow"); got != "root:$6$secret:20000::::::\n" {
		t.Errorf("shadow was rewritten: %q", got)
	}
	if after := fx.stat(t, "/etc/shadow"); after.Ino != before.Ino || after.Uid != 0 || after.Mode&0o777 != 0o640 {
		t.Errorf("shadow's inode, owner or mode changed: %+v -> %+v", before, after)
	}
	for _, c := range res.Changed {
		if strings.Contains(c, "peers.env") {
			t.Errorf("reported as changed: %q", c)
		}
	}
	// The other templates are still written: one bad destination does
	// not stop them.
	if !strings.Contains(fx.read(t, "/etc/nginx/upstream.conf"), "upstream web") {
		t.Errorf("the other templates were not written")
	}
}

// A link root made in root's own directories is written through, and the
// log names the file really written.
func TestStepWritesThroughRootsLinkAndNamesTheTarget(t *testing.T) {
	testenv.Root(t, "the link rule trusts only root's links")
	fx := newFixture(t)
	if err := os.MkdirAll(filepath.Join(fx.root, "srv/app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fx.root, "srv/app/peers.env"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/srv/app/peers.env", filepath.Join(fx.root, "etc/app/peers.env")); err != nil {
		t.Fatal(err)
	}
	_, res, err := fx.run(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fx.read(t, "/srv/app/peers.env"), "10.0.3.1") {
		t.Errorf("target not written: %q", fx.read(t, "/srv/app/peers.env"))
	}
	if fi, err := os.Lstat(filepath.Join(fx.root, "etc/app/peers.env")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link itself was replaced")
	}
	var got []string
	for _, c := range res.Changed {
		if strings.Contains(c, "peers.env") {
			got = append(got, c)
		}
	}
	if d := cmp.Diff([]string{"/etc/app/peers.env -> /srv/app/peers.env: written"}, got); d != "" {
		t.Errorf("log lines (-want +got):\n%s", d)
	}
}
