package relocate

import (
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

func sysfsRoot(name string) hostfs.Root {
	return hostfs.Root(filepath.Join("..", "..", "testdata", "relocate", "sysfs", name))
}

func TestFindInstanceStores(t *testing.T) {
	tests := []struct {
		tree      string
		ephemeral []string
		want      []Device
	}{
		{"nitro", nil, []Device{
			{Name: "nvme1n1", Model: ModelInstanceStore, Why: "nvme model"},
			{Name: "nvme2n1", Model: ModelInstanceStore, Why: "nvme model"},
			{Name: "nvme10n1", Model: ModelInstanceStore, Why: "nvme model"},
		}},
		// A metadata hint never turns EBS into instance store, nor adds a
		// second entry for a device already found by model.
		{"nitro", []string{"nvme0n1", "nvme1n1"}, []Device{
			{Name: "nvme1n1", Model: ModelInstanceStore, Why: "nvme model"},
			{Name: "nvme2n1", Model: ModelInstanceStore, Why: "nvme model"},
			{Name: "nvme10n1", Model: ModelInstanceStore, Why: "nvme model"},
		}},
		{"ebs-only", nil, nil},
		{"ebs-only", []string{"nvme1n1", "/dev/nvme0n1"}, nil},
		{"xen", nil, nil},
		{"xen", []string{"sdb"}, []Device{{Name: "xvdb", Why: "imds ephemeral0"}}},
		{"xen", []string{"/dev/sdc", "xvdb"}, []Device{{Name: "xvdb", Why: "imds ephemeral1"}}},
		{"does-not-exist", []string{"sdb"}, nil},
	}
	for _, tt := range tests {
		got, err := FindInstanceStores(sysfsRoot(tt.tree), tt.ephemeral)
		if err != nil {
			t.Fatalf("%s: %v", tt.tree, err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("FindInstanceStores(%s, %q) (-want +got):\n%s", tt.tree, tt.ephemeral, d)
		}
	}
}

func TestDeviceOf(t *testing.T) {
	type result struct {
		Dev   Device
		Part  string
		Known bool
	}
	tests := []struct {
		tree, dev string
		ephemeral []string
		want      result
	}{
		{"nitro", "259:1", nil, result{Device{Name: "nvme1n1", Model: ModelInstanceStore, Why: "nvme model"}, "", true}},
		{"nitro", "259:0", nil, result{Device{Name: "nvme0n1", Model: ModelEBS}, "", true}},
		{"nitro", "0:42", nil, result{}},
		{"partitioned", "259:2", nil, result{Device{Name: "nvme1n1", Model: ModelInstanceStore, Why: "nvme model"}, "nvme1n1p1", true}},
		{"ebs-partitioned", "259:3", []string{"nvme0n1"}, result{Device{Name: "nvme0n1", Model: ModelEBS}, "nvme0n1p1", true}},
		{"xen", "202:16", nil, result{Device{Name: "xvdb"}, "", true}},
		{"xen", "202:16", []string{"sdb"}, result{Device{Name: "xvdb", Why: "imds ephemeral0"}, "", true}},
	}
	for _, tt := range tests {
		d, part, ok := DeviceOf(sysfsRoot(tt.tree), tt.dev, tt.ephemeral)
		if diff := cmp.Diff(tt.want, result{d, part, ok}); diff != "" {
			t.Errorf("DeviceOf(%s, %s) (-want +got):\n%s", tt.tree, tt.dev, diff)
		}
	}
}

func TestLessName(t *testing.T) {
	got := []string{"nvme10n1", "xvdb", "nvme2n1", "nvme1n1", "nvme1n10", "nvme1n2", "sda"}
	sort.Slice(got, func(i, j int) bool { return lessName(got[i], got[j]) })
	want := []string{"nvme1n1", "nvme1n2", "nvme1n10", "nvme2n1", "nvme10n1", "sda", "xvdb"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("natural order (-want +got):\n%s", d)
	}
}

func TestManifestDiff(t *testing.T) {
	a := Manifest{
		".":     {Type: "dir", Mode: 0o755},
		"f":     {Type: "file", Mode: 0o644, Size: 3, Sum: "aaaaaaaaaaaaaaaa"},
		"l":     {Type: "link", Target: "f"},
		"gone":  {Type: "file"},
		"xattr": {Type: "file", Xattrs: map[string]string{"user.a": "01"}},
	}
	b := Manifest{
		".":     {Type: "dir", Mode: 0o755},
		"f":     {Type: "file", Mode: 0o600, Size: 3, Sum: "bbbbbbbbbbbbbbbb", UID: 1},
		"l":     {Type: "file"},
		"new":   {Type: "dir"},
		"xattr": {Type: "file"},
	}
	want := []string{
		"f: mode 0644 != 0600, owner 0:0 != 1:0, sha256 aaaaaaaaaaaa != bbbbbbbbbbbb",
		"gone: missing in the copy",
		"l: type link != file",
		"new: not in the original",
		"xattr: xattrs [user.a] != []",
	}
	if d := cmp.Diff(want, a.Diff(b)); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}
	if d := a.Diff(a); len(d) != 0 {
		t.Errorf("a manifest differs from itself: %q", d)
	}
}
