package cloudinit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

// debianConfig is Debian 12's cloud.cfg from cloud-init 22.4.2: "mounts" in
// cloud_init_modules and no mounts key, i.e. the default ephemeral0 -> /mnt.
const debianConfig = "testdata/debian-22.4-cloud.cfg"

// newRoot builds a root from testdata/<name> (an overlay of files under
// etc/ and var/) on top of Debian's cloud.cfg; name "" gives a root without
// cloud-init.
func newRoot(t *testing.T, name string, withBase bool) hostfs.Root {
	t.Helper()
	root := t.TempDir()
	if withBase {
		copyFile(t, debianConfig, filepath.Join(root, MainConfig))
	}
	if name != "" {
		src := filepath.Join("testdata", name)
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			copyFile(t, p, filepath.Join(root, rel))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return hostfs.Root(root)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMountConflict(t *testing.T) {
	tests := []struct {
		name       string
		dir        string
		noBase     bool
		mountPoint string
		wantMounts []Mount
		// wantWarn lists substrings of the warning; nil means no warning.
		wantWarn []string
	}{
		{name: "no_cloud_init", noBase: true, mountPoint: "/mnt"},
		{
			name: "debian_default", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
			wantWarn:   []string{"enabled in /etc/cloud/cloud.cfg", "the instance store (ephemeral0) at /mnt", "its built-in default", `"mounts: [[ephemeral0]]"`},
		},
		{
			name: "debian_default_other_mount_point", mountPoint: "/media/ephemeral0",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
			wantWarn:   []string{"the instance store (ephemeral0) at /mnt", "instance store at /media/ephemeral0 itself"},
		},
		{
			name: "disabled", dir: "disabled", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
		},
		{name: "mounts_off", dir: "mounts-off", mountPoint: "/mnt"},
		{name: "alias_off", dir: "alias-off", mountPoint: "/mnt"},
		{
			name: "module_removed", dir: "module-removed", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
		},
		{
			name: "other_device_at_mount_point", dir: "other-device", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "/dev/nvme1n1", MountPoint: "/mnt"}},
			wantWarn:   []string{"mounts /dev/nvme1n1 at /mnt (/etc/cloud/cloud.cfg.d/60-nvme.cfg)", `"mounts: [[/dev/nvme1n1]]"`},
		},
		{
			name: "ephemeral_elsewhere", dir: "ephemeral-elsewhere", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/media/ephemeral0"}},
			wantWarn:   []string{"the instance store (ephemeral0) at /media/ephemeral0"},
		},
		{
			name: "user_data_reenables", dir: "user-data-reenables", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt"}},
			wantWarn:   []string{"(/var/lib/cloud/instance/cloud-config.txt)"},
		},
		{name: "cancel_earlier", dir: "cancel-earlier", mountPoint: "/mnt"},
		{name: "broken_elsewhere", dir: "broken-elsewhere", mountPoint: "/mnt"},
		{
			name: "later_file_wins", dir: "later-file-wins", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "swap", MountPoint: "none"}, {Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
			wantWarn:   []string{"its built-in default"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(newRoot(t, tc.dir, !tc.noBase))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tc.wantMounts, c.Mounts()); c.Installed && diff != "" {
				t.Errorf("Mounts() mismatch (-want +got):\n%s", diff)
			}
			warn := c.MountConflict(tc.mountPoint)
			if tc.wantWarn == nil {
				if warn != "" {
					t.Errorf("MountConflict(%q) = %q, want no warning", tc.mountPoint, warn)
				}
				return
			}
			if warn == "" {
				t.Fatalf("MountConflict(%q) = no warning, want one containing %q", tc.mountPoint, tc.wantWarn)
			}
			for _, w := range tc.wantWarn {
				if !strings.Contains(warn, w) {
					t.Errorf("MountConflict(%q) = %q\nmissing %q", tc.mountPoint, warn, w)
				}
			}
		})
	}
}

func TestMountWarning(t *testing.T) {
	if w := MountWarning(newRoot(t, "", true), "/mnt"); !strings.Contains(w, "ephemeral0") {
		t.Errorf("MountWarning on Debian's default = %q, want the ephemeral0 warning", w)
	}
	if w := MountWarning(newRoot(t, "mounts-off", true), "/mnt"); w != "" {
		t.Errorf("MountWarning with the mount off = %q, want none", w)
	}
	if w := MountWarning(newRoot(t, "invalid-yaml", true), "/mnt"); !strings.Contains(w, "cannot tell") {
		t.Errorf("MountWarning with a broken file = %q, want a warning that says it cannot tell", w)
	}
}

func TestLoadMergeOrder(t *testing.T) {
	c, err := Load(newRoot(t, "later-file-wins", true))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{MainConfig, ConfigDir + "/10-off.cfg", ConfigDir + "/20-swap.cfg"}
	if diff := cmp.Diff(want, c.Files); diff != "" {
		t.Errorf("files read (-want +got):\n%s", diff)
	}
	if _, file, _ := c.Value("mounts"); file != ConfigDir+"/20-swap.cfg" {
		t.Errorf("mounts set by %q, want the last file", file)
	}
}

func TestLoadInvalid(t *testing.T) {
	_, err := Load(newRoot(t, "invalid-yaml", true))
	if err == nil || !strings.Contains(err.Error(), "/etc/cloud/cloud.cfg.d/50-broken.cfg") {
		t.Fatalf("Load error = %v, want one naming the broken file", err)
	}
}

func TestManageEtcHosts(t *testing.T) {
	tests := []struct {
		dir      string
		wantMode string
		wantFile string
	}{
		{dir: ""},
		{dir: "manage-hosts", wantMode: "localhost", wantFile: ConfigDir + "/50-hosts.cfg"},
	}
	for _, tc := range tests {
		c, err := Load(newRoot(t, tc.dir, true))
		if err != nil {
			t.Fatal(err)
		}
		mode, file := c.ManageEtcHosts()
		if mode != tc.wantMode || file != tc.wantFile {
			t.Errorf("%s: ManageEtcHosts() = %q, %q; want %q, %q", tc.dir, mode, file, tc.wantMode, tc.wantFile)
		}
	}
}

// TestMergeMatchesCloudInit asks cloud-init's own config reader for the
// merged system configuration of each test root and compares the keys this
// package uses.
func TestMergeMatchesCloudInit(t *testing.T) {
	const python = "/usr/bin/python3" // cloud-init's modules import only under the system Python
	if err := exec.Command(python, "-c", "import cloudinit.util").Run(); err != nil {
		testenv.Missing(t, "cloud-init's Python modules are not installed (%v): apt-get install cloud-init", err)
	}
	const script = `import json, sys
from cloudinit import util
cfg = util.read_conf_with_confd(sys.argv[1])
print(json.dumps({k: cfg.get(k) for k in ("mounts", "cloud_init_modules", "manage_etc_hosts")}))`
	for _, dir := range []string{"", "mounts-off", "alias-off", "module-removed", "other-device", "later-file-wins", "manage-hosts", "cancel-earlier"} {
		t.Run(dir, func(t *testing.T) {
			root := newRoot(t, dir, true)
			out, err := exec.Command(python, "-c", script, root.Path(MainConfig)).Output()
			if err != nil {
				t.Fatalf("cloud-init's reader: %v", err)
			}
			theirs, err := Parse(out) // JSON is YAML
			if err != nil {
				t.Fatalf("cloud-init's output %q: %v", out, err)
			}
			c, err := Load(root)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"mounts", "cloud_init_modules", "manage_etc_hosts"} {
				ours, _, _ := c.Value(key)
				if diff := cmp.Diff(theirs[key], ours); diff != "" {
					t.Errorf("%s differs from cloud-init's merge (-cloud-init +ours):\n%s", key, diff)
				}
			}
		})
	}
}

// FuzzParse checks that Parse never panics, and that a document it reads
// whole (no entry left out) is one go.yaml.in/yaml/v3 reads too, with the
// same structure (see sameAsYAMLv3).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "mounts: [[ephemeral0, null]]\n", "- a\n- b\n", "a: [\n", "manage_etc_hosts: true\n", "&a [*a]"} {
		f.Add([]byte(s))
	}
	for _, s := range pyyamlCases() {
		f.Add([]byte(s))
	}
	b, err := os.ReadFile(debianConfig)
	if err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, dropped, err := parseDocument(data)
		if err == nil && doc == nil {
			t.Fatal("nil map without error")
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		c := &Config{Installed: true, values: doc, from: map[string]string{}}
		c.Mounts()
		c.MountConflict("/mnt")
		c.ManageEtcHosts()
		if len(dropped) > 0 {
			return
		}
		var n yaml.Node
		err = yaml.Unmarshal(data, &n)
		if err == nil {
			err = sameAsYAMLv3("", doc, &n)
		}
		if err != nil {
			if why := yamlV3Differs(data, err); why != "" {
				t.Skip(why)
			}
			t.Fatalf("%q: Parse reads it, yaml.v3: %v", data, err)
		}
	})
}
