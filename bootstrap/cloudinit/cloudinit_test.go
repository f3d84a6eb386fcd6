package cloudinit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
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
		// cloud-init cannot read the file, so it ignores its mounts: [[ephemeral0, null]]
		// with the rest, and mounts ephemeral0 at /mnt by default.
		{
			name: "broken_elsewhere", dir: "broken-elsewhere", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
			wantWarn:   []string{"the instance store (ephemeral0) at /mnt", "its built-in default"},
		},
		{
			name: "invalid_yaml", dir: "invalid-yaml", mountPoint: "/mnt",
			wantMounts: []Mount{{Device: "ephemeral0", MountPoint: "/mnt", Default: true}},
			wantWarn:   []string{"its built-in default"},
		},
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
	tests := []struct {
		dir  string
		want []string // one substring per warning, in order
	}{
		{dir: "", want: []string{"the instance store (ephemeral0) at /mnt"}},
		{dir: "mounts-off"},
		{dir: "disabled"},
		{dir: "invalid-yaml", want: []string{
			"cloud-init config /etc/cloud/cloud.cfg.d/50-broken.cfg is not YAML cloud-init can read (line 1: did not find expected ',' or ']'): cloud-init ignores the whole file",
			"the instance store (ephemeral0) at /mnt",
		}},
		{dir: "broken-elsewhere", want: []string{
			"cloud-init config /etc/cloud/cloud.cfg.d/50-user.cfg is not YAML cloud-init can read (line 5: found unexpected end of stream)",
			"the instance store (ephemeral0) at /mnt",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			got := MountWarning(newRoot(t, tc.dir, true), "/mnt")
			if len(got) != len(tc.want) {
				t.Fatalf("MountWarning = %q, want %d warnings containing %q", got, len(tc.want), tc.want)
			}
			for i, w := range got {
				if strings.Contains(w, "\n") || !strings.Contains(w, tc.want[i]) {
					t.Errorf("warning %d = %q, want one line containing %q", i, w, tc.want[i])
				}
			}
		})
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

// A file cloud-init cannot read is left out whole, as cloud-init's
// load_yaml leaves it out, and named in Ignored; the other files still count.
func TestLoadIgnoresUnreadableFile(t *testing.T) {
	c, err := Load(newRoot(t, "invalid-yaml", true))
	if err != nil {
		t.Fatalf("Load: %v, want the broken file ignored", err)
	}
	if len(c.Ignored) != 1 || !strings.Contains(c.Ignored[0], ConfigDir+"/50-broken.cfg") {
		t.Errorf("Ignored = %q, want one warning naming the broken file", c.Ignored)
	}
	if diff := cmp.Diff([]string{MainConfig}, c.Files); diff != "" {
		t.Errorf("files read (-want +got):\n%s", diff)
	}
	if _, _, ok := c.Value("cloud_init_modules"); !ok {
		t.Error("cloud.cfg's module list is gone with the broken file")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		doc     string
		want    map[string]any
		wantErr string
	}{
		{doc: "", want: map[string]any{}},
		{doc: "#cloud-config\n", want: map[string]any{}},
		{doc: "---\n", want: map[string]any{}},
		{doc: "~\n", want: map[string]any{}},
		{doc: "mounts: [[ephemeral0, null]]\n", want: map[string]any{"mounts": []any{[]any{"ephemeral0", nil}}}},
		{doc: "a: 1\na: 2\n", want: map[string]any{"a": 2}},
		{doc: "base: &b {mounts: [[x]], manage_etc_hosts: true}\nm:\n  <<: *b\n  manage_etc_hosts: false\n",
			want: map[string]any{
				"base": map[string]any{"mounts": []any{[]any{"x"}}, "manage_etc_hosts": true},
				"m":    map[string]any{"mounts": []any{[]any{"x"}}, "manage_etc_hosts": false},
			}},
		{doc: "a: &x [1]\nb: *x\n", want: map[string]any{"a": []any{1}, "b": []any{1}}},
		{doc: "- a\n", wantErr: "line 1: the top level is not a mapping"},
		{doc: "just text\n", wantErr: "line 1: the top level is not a mapping"},
		{doc: "a: 1\n---\nb: 2\n", wantErr: "line 2: a second document"},
		{doc: "a: !custom x\n", wantErr: "line 1: tag !custom"},
		{doc: "? [a]\n: b\n", wantErr: "line 1: a list or mapping as a key"},
		{doc: "mounts: [[ephemeral0, null\n", wantErr: "did not find expected"},
		{doc: "a: b: c\n", wantErr: "mapping values are not allowed"},
	}
	for _, tc := range tests {
		got, err := Parse([]byte(tc.doc))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tc.doc, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.doc, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tc.doc, diff)
		}
	}
}

func TestManageEtcHosts(t *testing.T) {
	tests := []struct {
		value    string // written after "manage_etc_hosts: "
		wantMode string
	}{
		{"true", HostsTemplate}, {"True", HostsTemplate}, {"yes", HostsTemplate}, {"on", HostsTemplate},
		{"'yes'", HostsTemplate}, {"\" TRUE \"", HostsTemplate}, {"1", HostsTemplate}, {"'1'", HostsTemplate},
		{"+1", HostsTemplate}, {"01", HostsTemplate}, {"0x1", HostsTemplate}, {"0b1", HostsTemplate}, {"0_1", HostsTemplate},
		{"template", HostsTemplate}, {"Template", HostsTemplate}, {"!!int 0x1", HostsTemplate},
		{"localhost", HostsLocalhost}, {"'localhost'", HostsLocalhost},
		{"LOCALHOST", HostsOff}, {"' localhost'", HostsOff},
		{"false", HostsOff}, {"no", HostsOff}, {"off", HostsOff}, {"0", HostsOff}, {"", HostsOff}, {"~", HostsOff},
		{"1.0", HostsOff}, {"1e0", HostsOff}, {"0o1", HostsOff}, {"08", HostsOff}, {"+1.", HostsOff}, {"0X1", HostsOff},
		{"2", HostsOff}, {"[true]", HostsOff}, {"{a: b}", HostsOff}, {"y", HostsOff},
	}
	for _, tc := range tests {
		root := writeHostsConfig(t, tc.value)
		c, err := Load(root)
		if err != nil || len(c.Ignored) > 0 {
			t.Fatalf("%q: Load: %v, %q", tc.value, err, c.Ignored)
		}
		mode, _, file := c.ManageEtcHosts()
		if mode != tc.wantMode || file != MainConfig {
			t.Errorf("manage_etc_hosts: %s gives %q (%s), want %q", tc.value, mode, file, tc.wantMode)
		}
	}
}

func writeHostsConfig(t *testing.T, value string) hostfs.Root {
	t.Helper()
	root := hostfs.Root(t.TempDir())
	if err := os.MkdirAll(root.Path(ConfigDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root.Path(MainConfig), []byte("manage_etc_hosts: "+value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// FuzzParse checks that Parse never panics, fails with one line, returns a
// mapping when it does not fail, and that what the checks read from any
// document does not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "mounts: [[ephemeral0, null]]\n", "- a\n- b\n", "a: [\n", "manage_etc_hosts: 0x_1\n",
		"&a [*a]", "a: &x {<<: *x}\n", "a: !!int 0b\n", "<<: [{mounts: [[x]]}]\n"} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(debianConfig); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, nodes, err := parse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		if doc == nil || len(nodes) != len(doc) {
			t.Fatalf("%d keys, %d nodes", len(doc), len(nodes))
		}
		c := &Config{Installed: true, values: doc, nodes: nodes, from: map[string]string{}}
		c.Mounts()
		c.MountConflict("/mnt")
		if mode, _, _ := c.ManageEtcHosts(); mode != HostsOff && mode != HostsTemplate && mode != HostsLocalhost {
			t.Fatalf("mode %q", mode)
		}
	})
}
