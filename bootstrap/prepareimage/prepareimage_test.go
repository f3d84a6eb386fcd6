package prepareimage

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// A build instance as Packer leaves it: ec2boot ran, cloud-init ran, a
// login happened, the instance store has data.
var buildInstance = map[string]string{
	"/var/lib/ec2boot/facts.json":                               `{"instance_id":"i-0build0000000001","saved_at":"2026-01-01T00:00:00Z","data":{"local_ipv4":"10.0.0.5"}}`,
	"/var/lib/ec2boot/user-data.json":                           `{"instance_id":"i-0build0000000001","saved_at":"2026-01-01T00:00:00Z","data":{"found":true,"toml":"[dns.accounts.main]\nusername = \"u\"\npassword = \"hunter2\"\n"}}`,
	"/var/lib/ec2boot/ddns.json":                                `{"instance_id":"i-0build0000000001","saved_at":"2026-01-01T00:00:00Z","data":{}}`,
	"/var/lib/cloud/instances/i-0build0000000001/user-data.txt": "#cloud-config\n",
	"/var/log/cloud-init.log":                                   "log\n",
	"/etc/machine-id":                                           "0123456789abcdef0123456789abcdef\n",
	"/mnt/log/app.log":                                          strings.Repeat("x", 3000),
	"/mnt/lost+found/ignored":                                   "y",
	"/media/usb/photo.jpg":                                      "z",
	"/root/.ssh/authorized_keys":                                "ssh-ed25519 AAAA packer\n",
	"/home/admin/.bash_history":                                 "sudo ls\n",
	"/etc/ec2boot/dns-password":                                 "s3cret\n",
	"/etc/cloud/cloud.cfg":                                      "cloud_init_modules:\n - mounts\n",
	"/etc/fstab":                                                "UUID=abc / ext4 defaults 0 1\n/dev/nvme1n1\t/mnt\tauto\tdefaults,nofail,x-systemd.requires=cloud-init.service,_netdev,comment=cloudconfig\t0\t2\n",
	"/etc/ec2boot/config.toml": `[dns.accounts.inline]
server = "https://dyn.example.test"
username = "u"
password = "hunter2"

[dns.accounts.filed]
server = "https://dyn.example.test"
username = "u"
password_file = "/etc/ec2boot/dns-password"
`,
}

// The same machine made ready: nothing of ec2boot's, no cloud-init data,
// an empty machine-id, cloud-init told to leave the instance store alone.
var readyImage = map[string]string{
	"/etc/machine-id":                       "",
	"/etc/cloud/cloud.cfg":                  "cloud_init_modules:\n - mounts\n",
	"/etc/cloud/cloud.cfg.d/99-ec2boot.cfg": "mounts: [[ephemeral0]]\n",
	"/mnt/lost+found/ignored":               "y",
	"/etc/fstab":                            "UUID=abc / ext4 defaults 0 1\n# comment=cloudconfig in a comment is not a mount\n",
}

// withFiles is base with files added or replaced.
func withFiles(base, files map[string]string) map[string]string {
	out := map[string]string{}
	for p, c := range base {
		out[p] = c
	}
	for p, c := range files {
		out[p] = c
	}
	return out
}

func makeRoot(t *testing.T, files map[string]string) hostfs.Root {
	t.Helper()
	root := hostfs.Root(t.TempDir())
	for p, content := range files {
		full := root.Path(p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// tree lists every path under root with its content, to prove what changed.
func tree(t *testing.T, root hostfs.Root) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(string(root), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := root.Rel(p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		case d.IsDir():
			out[rel+"/"] = ""
		default:
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestRunReports(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		apply     bool
		wantClean bool
	}{
		{name: "empty_root", files: map[string]string{}, wantClean: true},
		{name: "build_instance_dry", files: buildInstance},
		{name: "build_instance_apply", files: buildInstance, apply: true},
		{name: "ready_image", files: readyImage, wantClean: true},
		// cloud-init ignores the broken file, and its mounts setting with
		// it: the note names the file, and the mount comes back.
		{name: "broken_cloud_init_file", wantClean: true, files: withFiles(readyImage, map[string]string{
			"/etc/cloud/cloud.cfg.d/99-ec2boot.cfg": "mounts: [[ephemeral0]\n",
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := makeRoot(t, tc.files)
			before := tree(t, root)
			var out bytes.Buffer
			rep, err := Run(context.Background(), root, "/etc/ec2boot/config.toml", tc.apply, &out)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			golden(t, tc.name, out.Bytes())
			if rep.Clean() != tc.wantClean {
				t.Errorf("Clean() = %v, want %v", rep.Clean(), tc.wantClean)
			}
			after := tree(t, root)
			if !tc.apply {
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("dry run changed the tree (-before +after):\n%s", diff)
				}
				return
			}
			// Apply removed exactly the Remove items and nothing else
			// (the lock file it held is runtime, not image content).
			for p := range before {
				_, still := after[p]
				isState := strings.HasPrefix(p, "/var/lib/ec2boot/") && p != "/var/lib/ec2boot/"
				if isState && still {
					t.Errorf("%s survived --apply", p)
				}
				if !isState && !still {
					t.Errorf("%s was removed but is not ec2boot's", p)
				}
			}
			if _, ok := after["/var/lib/ec2boot/"]; !ok {
				t.Error("the state directory itself was removed; only its content should be")
			}
		})
	}
}

func TestApplyThenInspectIsClean(t *testing.T) {
	files := map[string]string{}
	for p, c := range buildInstance {
		if strings.HasPrefix(p, "/var/lib/ec2boot/") {
			files[p] = c
		}
	}
	root := makeRoot(t, files)
	var out bytes.Buffer
	if _, err := Run(context.Background(), root, "/etc/ec2boot/config.toml", true, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	rep, err := Run(context.Background(), root, "/etc/ec2boot/config.toml", false, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || len(rep.Items) != 0 {
		t.Errorf("after --apply a dry run still reports:\n%s", out.String())
	}
}

func TestApplyDoesNotFollowLinks(t *testing.T) {
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	if err := os.WriteFile(keep, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := makeRoot(t, map[string]string{"/var/lib/ec2boot/facts.json": "{}"})
	if err := os.Symlink(outside, root.Lpath("/var/lib/ec2boot/link")); err != nil {
		t.Fatal(err)
	}
	// A link whose target is inside the root: the link goes, the target
	// stays.
	inside := root.Path("/srv/keep")
	if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inside, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/srv", root.Lpath("/var/lib/ec2boot/inside")); err != nil {
		t.Fatal(err)
	}
	rep, err := Inspect(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Apply(root); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "precious" {
		t.Fatalf("the link's target was touched: %q, %v", b, err)
	}
	if b, err := os.ReadFile(inside); err != nil || string(b) != "precious" {
		t.Fatalf("the target inside the root was touched: %q, %v", b, err)
	}
	for _, l := range []string{"/var/lib/ec2boot/link", "/var/lib/ec2boot/inside"} {
		if _, err := os.Lstat(root.Lpath(l)); !os.IsNotExist(err) {
			t.Errorf("the link %s itself is still there: %v", l, err)
		}
	}
}

func TestRunInvalidConfigChangesNothing(t *testing.T) {
	files := map[string]string{
		"/etc/ec2boot/config.toml":    "[relocate]\nmount_point = \"relative\"\n",
		"/var/lib/ec2boot/facts.json": "{}",
	}
	root := makeRoot(t, files)
	before := tree(t, root)
	var out bytes.Buffer
	_, err := Run(context.Background(), root, "/etc/ec2boot/config.toml", true, &out)
	if err == nil || !strings.Contains(err.Error(), "relocate.mount_point") {
		t.Fatalf("Run error = %v, want one naming relocate.mount_point", err)
	}
	if diff := cmp.Diff(before, tree(t, root)); diff != "" {
		t.Errorf("an invalid config still changed the tree:\n%s", diff)
	}
}

func TestRelocatedNow(t *testing.T) {
	// An instance store at /mnt with /var/log bound from it, a tmpfs on
	// /tmp, and /var/tmp not relocated.
	const info = `22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw
30 22 259:3 / /mnt rw,relatime shared:5 - ext4 /dev/nvme1n1 rw
31 22 259:3 /ec2boot/var/log /var/log rw,relatime shared:5 - ext4 /dev/nvme1n1 rw
32 22 0:40 / /tmp rw,nosuid,nodev shared:6 - tmpfs tmpfs rw
`
	table, err := mountinfo.Parse(strings.NewReader(info))
	if err != nil {
		t.Fatal(err)
	}
	got := relocatedNow(table, "/mnt", []string{"/var/log", "/var/tmp", "/tmp"})
	if diff := cmp.Diff([]string{"/var/log"}, got); diff != "" {
		t.Errorf("relocatedNow (-want +got):\n%s", diff)
	}
	if got := relocatedNow(table, "/media/ephemeral0", []string{"/var/log"}); got != nil {
		t.Errorf("relocatedNow with nothing at the mount point = %v, want none", got)
	}
}

func TestCredentialKey(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`password = "x"`, true},
		{`"toml":"[a]\npassword = \"hunter2\"\n"`, true},
		{`{"api_key": "abc"}`, true},
		{`token="t"`, true},
		{`password_file = "/etc/p"`, false},
		{`password = ""`, false},
		{`"passwords_rotated": 3`, false},
		{`{"instance_id":"i-1"}`, false},
		{`PassWd: "x"`, true},
		{`{password:"x"}`, true},
		{`\tsecret = "x"`, true},
		{`password = \"x`, true},
		{`xpassword = "x"`, false},
		{`password = \"\"`, false},
		{`secret = 'x'`, false},
		{`private-key = "x"`, false},
	}
	for _, tc := range tests {
		if got := credentialKey.MatchString(tc.in); got != tc.want {
			t.Errorf("credentialKey(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// docs/config.md's merge example: the image's account has no username, as
// user-data gives it at launch. prepare-image still inspects the image.
func TestRunAcceptsALocalFileCompletedAtLaunch(t *testing.T) {
	files := map[string]string{
		"/etc/ec2boot/config.toml": "[dns.accounts.dyn]\nserver = \"https://members.dyndns.org\"\npassword_file = \"/etc/ec2boot/dyn.secret\"\n",
		"/etc/ec2boot/dyn.secret":  "pw\n",
	}
	root := makeRoot(t, files)
	var out bytes.Buffer
	rep, err := Run(context.Background(), root, "/etc/ec2boot/config.toml", false, &out)
	if err != nil || rep == nil {
		t.Fatalf("Run = %v", err)
	}
	if !strings.Contains(out.String(), "/etc/ec2boot/dyn.secret") {
		t.Errorf("the account's password file is not in the report:\n%s", out.String())
	}
	// An unknown key is still the image's own mistake.
	root = makeRoot(t, map[string]string{"/etc/ec2boot/config.toml": "[dns]\nbogus = 1\n"})
	if _, err := Run(context.Background(), root, "/etc/ec2boot/config.toml", false, &out); err == nil || !strings.Contains(err.Error(), "dns.bogus: unknown key") {
		t.Errorf("unknown key: %v", err)
	}
}
