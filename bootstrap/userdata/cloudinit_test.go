package userdata

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// TestRealMakeMime builds user-data with cloud-init's own make-mime (and the
// gzip command) at test time, with fresh random boundaries, and checks that
// exactly our TOML comes out. The committed samples cover machines without
// cloud-init.
func TestRealMakeMime(t *testing.T) {
	ci := testenv.Tool(t, "cloud-init", "apt-get install cloud-init (without it the committed samples still cover the format)")
	gzipCmd := testenv.Tool(t, "gzip", "apt-get install gzip")
	dir := t.TempDir()
	for _, f := range []string{"ec2boot.toml", "cloud.yaml", "script.sh"} {
		if err := os.WriteFile(filepath.Join(dir, f), readTestdata(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := string(readTestdata(t, "ec2boot.toml"))
	tests := []struct {
		name     string
		args     []string
		wantTOML bool
	}{
		{"cloud-config and ours", []string{"-a", "cloud.yaml:cloud-config", "-a", "ec2boot.toml:x-ec2boot"}, true},
		{"ours first, toml subtype", []string{"-a", "ec2boot.toml:x-ec2boot-toml", "-a", "script.sh:x-shellscript"}, true},
		{"by filename", []string{"-a", "script.sh:x-shellscript", "-a", "ec2boot.toml:plain"}, true},
		{"without ours", []string{"-a", "cloud.yaml:cloud-config", "-a", "script.sh:x-shellscript"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(ci, append([]string{"devel", "make-mime"}, append(tt.args, "-f")...)...)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			mime, err := cmd.Output()
			if err != nil {
				t.Fatalf("make-mime: %v: %s", err, stderr.String())
			}
			zip := exec.Command(gzipCmd, "-9n")
			zip.Stdin = bytes.NewReader(mime)
			compressed, err := zip.Output()
			if err != nil {
				t.Fatalf("gzip: %v", err)
			}
			for name, in := range map[string][]byte{"plain": mime, "gzip": compressed} {
				r, err := Extract(in)
				if err != nil {
					t.Fatalf("%s: Extract: %v", name, err)
				}
				if r.Format != MIME || r.Gzip != (name == "gzip") || len(r.Parts) != 2 {
					t.Errorf("%s: %s", name, r.Describe())
				}
				got := ""
				if r.TOML != nil {
					got = string(r.TOML)
				}
				if !tt.wantTOML {
					if r.Found() {
						t.Errorf("%s: found TOML where there is none: %s", name, r.Describe())
					}
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: TOML (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}
