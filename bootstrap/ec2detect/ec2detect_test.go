package ec2detect_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/ec2detect"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// The table is the golden record: fake sysfs trees as seen on real machine
// kinds, and exactly what Detect must say about each.
func TestDetect(t *testing.T) {
	const (
		vendor = "sys/devices/virtual/dmi/id/sys_vendor"
		board  = "sys/devices/virtual/dmi/id/board_vendor"
		puuid  = "sys/devices/virtual/dmi/id/product_uuid"
		asset  = "sys/devices/virtual/dmi/id/board_asset_tag"
		hyper  = "sys/hypervisor/uuid"
	)
	tests := []struct {
		name  string
		files map[string]string
		want  ec2detect.Result
	}{
		{
			name: "nitro",
			files: map[string]string{vendor: "Amazon EC2\n", board: "Amazon EC2\n",
				puuid: "ec2f1b4a-7c1e-2b0d-9a0e-0123456789ab\n", asset: "i-0123456789abcdef0\n"},
			want: ec2detect.Result{OnEC2: true, Evidence: `/sys/devices/virtual/dmi/id/sys_vendor is "Amazon EC2"`,
				InstanceID: "i-0123456789abcdef0"},
		},
		{
			name:  "nitro, only board vendor readable",
			files: map[string]string{board: "Amazon EC2\n"},
			want: ec2detect.Result{OnEC2: true,
				Evidence: `/sys/devices/virtual/dmi/id/board_vendor is "Amazon EC2"`},
		},
		{
			name:  "xen hvm",
			files: map[string]string{vendor: "Xen\n", puuid: "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n", asset: "\n"},
			want: ec2detect.Result{OnEC2: true,
				Evidence: `/sys/devices/virtual/dmi/id/product_uuid "EC2E1916-9099-7CAF-FD21-012345ABCDEF" starts with ec2`},
		},
		{
			name:  "xen hvm, little-endian uuid",
			files: map[string]string{vendor: "Xen\n", puuid: "45E12AEC-DCD1-B213-94ED-012345ABCDEF\n"},
			want: ec2detect.Result{OnEC2: true,
				Evidence: `/sys/devices/virtual/dmi/id/product_uuid "45E12AEC-DCD1-B213-94ED-012345ABCDEF" starts with ec2`},
		},
		{
			name:  "xen pv, no dmi",
			files: map[string]string{hyper: "ec2a0f3c-1111-2222-3333-444455556666\n"},
			want: ec2detect.Result{OnEC2: true,
				Evidence: `/sys/hypervisor/uuid "ec2a0f3c-1111-2222-3333-444455556666" starts with ec2`},
		},
		{
			name:  "qemu",
			files: map[string]string{vendor: "QEMU\n", board: "\n", puuid: "3f2c9a4e-51b7-4d2a-9c1e-0e5d6b7a8c90\n"},
			want: ec2detect.Result{Evidence: `no EC2 signature: /sys/devices/virtual/dmi/id/sys_vendor "QEMU"; ` +
				`/sys/devices/virtual/dmi/id/board_vendor empty; ` +
				`/sys/devices/virtual/dmi/id/product_uuid "3f2c9a4e-51b7-4d2a-9c1e-0e5d6b7a8c90"; /sys/hypervisor/uuid absent`},
		},
		{
			name:  "other xen cloud",
			files: map[string]string{vendor: "Xen\n", hyper: "5a3b0e21-0000-4000-8000-000000000001\n", asset: "not-an-id"},
			want: ec2detect.Result{Evidence: `no EC2 signature: /sys/devices/virtual/dmi/id/sys_vendor "Xen"; ` +
				`/sys/devices/virtual/dmi/id/board_vendor absent; /sys/devices/virtual/dmi/id/product_uuid absent; ` +
				`/sys/hypervisor/uuid "5a3b0e21-0000-4000-8000-000000000001"`},
		},
		{
			name:  "vendor that merely contains Amazon",
			files: map[string]string{vendor: "Amazon EC2 Lookalike\n"},
			want: ec2detect.Result{Evidence: `no EC2 signature: /sys/devices/virtual/dmi/id/sys_vendor "Amazon EC2 Lookalike"; ` +
				`/sys/devices/virtual/dmi/id/board_vendor absent; /sys/devices/virtual/dmi/id/product_uuid absent; /sys/hypervisor/uuid absent`},
		},
		{
			name: "microvm without dmi",
			want: ec2detect.Result{Evidence: `no EC2 signature: /sys/devices/virtual/dmi/id/sys_vendor absent; ` +
				`/sys/devices/virtual/dmi/id/board_vendor absent; /sys/devices/virtual/dmi/id/product_uuid absent; /sys/hypervisor/uuid absent`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, v := range tt.files {
				full := filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(v), 0o444); err != nil {
					t.Fatal(err)
				}
			}
			got := ec2detect.Detect(hostfs.Root(root))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Detect (-want +got):\n%s", diff)
			}
			on, ev := ec2detect.OnEC2(hostfs.Root(root))
			if on != tt.want.OnEC2 || ev != tt.want.Evidence {
				t.Errorf("OnEC2 = %v, %q; want %v, %q", on, ev, tt.want.OnEC2, tt.want.Evidence)
			}
		})
	}
}

func TestUnreadableFileIsNamed(t *testing.T) {
	// Root reads mode-0000 files anyway; a directory in the file's place
	// gives a read error for everyone.
	root := t.TempDir()
	p := filepath.Join(root, "sys/devices/virtual/dmi/id/sys_vendor")
	if err := os.MkdirAll(p, 0o755); err != nil { // a directory where a file should be
		t.Fatal(err)
	}
	on, ev := ec2detect.OnEC2(hostfs.Root(root))
	if on {
		t.Fatalf("OnEC2 = true for an unreadable vendor file")
	}
	if !strings.HasPrefix(ev, "no EC2 signature: /sys/devices/virtual/dmi/id/sys_vendor: read ") {
		t.Errorf("evidence %q does not name the unreadable file", ev)
	}
}

func BenchmarkOnEC2NotEC2(b *testing.B) {
	root := hostfs.Root(b.TempDir())
	for b.Loop() {
		ec2detect.OnEC2(root)
	}
}
