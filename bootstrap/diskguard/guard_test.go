package diskguard

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

func TestPercent(t *testing.T) {
	for _, tt := range []struct {
		used, total uint64
		want        int
	}{{0, 0, 0}, {0, 100, 0}, {841, 1000, 85}, {850, 1000, 85}, {851, 1000, 86}, {1000, 1000, 100}} {
		if got := percent(tt.used, tt.total); got != tt.want {
			t.Errorf("percent(%d, %d) = %d, want %d", tt.used, tt.total, got, tt.want)
		}
	}
}

func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("diskguard-test", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

func fill(t *testing.T, p string, mib int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, mib<<20), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runGuard(t *testing.T, s *Step, root string) (step.Result, string) {
	t.Helper()
	env := &step.Env{Root: hostfs.Root(root), Config: config.Default(), Log: zerolog.Nop()}
	p, err := s.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p.Describe(&b)
	res, err := p.Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res, b.String()
}

func TestGuard(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, root string)
		limit    Limit
		plan     []string
		degraded []string
	}{
		{
			name:  "below the threshold, /mnt on the root filesystem",
			setup: func(t *testing.T, root string) { fill(t, root+"/var/log/syslog", 2); os.Mkdir(root+"/mnt", 0o755) },
			plan:  []string{"/: 13% used (2.0 MiB of 16.0 MiB, 14.0 MiB free), inodes ", "/mnt: on the same filesystem as /"},
		},
		{
			name: "root past the threshold: largest directories named",
			setup: func(t *testing.T, root string) {
				fill(t, root+"/var/log/big", 10)
				fill(t, root+"/var/cache/apt/pkg", 4)
				fill(t, root+"/home/u/small", 1)
			},
			plan: []string{"/: 94% used", "/mnt: does not exist",
				"warning: / is 94% full (threshold 85%); largest: /var 14.0 MiB, /var/log 10.0 MiB, /var/cache 4.0 MiB, /home 1.0 MiB, /home/u 1.0 MiB"},
			degraded: []string{"/ is 94% full (threshold 85%); largest: /var 14.0 MiB, /var/log 10.0 MiB, /var/cache 4.0 MiB, /home 1.0 MiB, /home/u 1.0 MiB"},
		},
		{
			name: "instance store past the threshold, bounded scan",
			setup: func(t *testing.T, root string) {
				mountTmpfs(t, root+"/mnt", "8m")
				for _, d := range []string{"a", "b", "c", "d"} {
					fill(t, root+"/mnt/"+d+"/f", 2)
				}
			},
			limit: Limit{Entries: 3},
			plan:  []string{"/: 0% used", "/mnt: 100% used"},
			// Which directory is read first depends on the filesystem.
			degraded: []string{"/mnt is 100% full (threshold 85%); largest: /mnt/X 2.0 MiB (partial scan)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			mountTmpfs(t, root, "16m")
			tt.setup(t, root)
			res, text := runGuard(t, &Step{ScanLimit: tt.limit}, root)
			for _, want := range tt.plan {
				if !strings.Contains(text, want) {
					t.Errorf("plan lacks %q:\n%s", want, text)
				}
			}
			got := res.Degraded
			for i := range got {
				got[i] = regexp.MustCompile(`/mnt/[a-d]\b`).ReplaceAllString(got[i], "/mnt/X")
			}
			if d := cmp.Diff(tt.degraded, got); d != "" {
				t.Errorf("degraded (-want +got):\n%s", d)
			}
		})
	}
}

func TestGuardRealRoot(t *testing.T) {
	res, text := runGuard(t, New(), "/")
	if !strings.HasPrefix(text, "/: ") || !strings.Contains(text, "% used") {
		t.Errorf("plan for the real root = %q", text)
	}
	t.Logf("%s(degraded: %q)", text, res.Degraded)
}
