package relocate

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFindWritersInOnePass: one scan for several directories finds each
// writer once, judges a file under nested directories by the deepest one,
// and agrees with the one-directory form.
func TestFindWritersInOnePass(t *testing.T) {
	base := t.TempDir()
	logs, nested, tmp, other := filepath.Join(base, "log"), filepath.Join(base, "log", "app"),
		filepath.Join(base, "tmp"), filepath.Join(base, "other")
	for _, d := range []string{nested, tmp, other} {
		must(t, os.MkdirAll(d, 0o755))
	}
	syslog, applog, scratch, x := filepath.Join(logs, "syslog"), filepath.Join(nested, "app.log"),
		filepath.Join(tmp, "scratch"), filepath.Join(other, "x")
	pids := map[string]int{}
	for _, f := range []string{syslog, applog, scratch, x} {
		cmd, _ := startWriter(t, f)
		pids[f] = cmd.Process.Pid
	}
	found := func(t *testing.T, dirs map[string]int) ([]string, int) {
		t.Helper()
		ws, err := FindWritersIn("/proc", dirs)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		mnt := 0
		for _, w := range ws {
			if pid, ours := pids[w.Path]; ours && pid == w.PID {
				got = append(got, w.Path)
				mnt = w.MountID
			}
		}
		sort.Strings(got)
		return got, mnt
	}
	all, mnt := found(t, map[string]int{logs: 0, nested: 0, tmp: 0})
	if diff := cmp.Diff([]string{applog, syslog, scratch}, all); diff != "" {
		t.Errorf("three directories (-want +got):\n%s", diff)
	}
	if mnt == 0 {
		t.Fatal("no mount id reported")
	}
	// The outer directory's mount is the visible one, the nested one has
	// none: the nested file is judged by the nested entry, whatever the
	// map order.
	for i := 0; i < 20; i++ {
		got, _ := found(t, map[string]int{logs: mnt, nested: 0})
		if diff := cmp.Diff([]string{applog}, got); diff != "" {
			t.Fatalf("nested directories (-want +got):\n%s", diff)
		}
	}
	if got, _ := found(t, map[string]int{filepath.Join(base, "absent"): 0}); len(got) != 0 {
		t.Errorf("absent directory: found %v", got)
	}
	for _, d := range []string{logs, tmp} {
		single, err := FindWriters("/proc", d, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range single {
			if pid, ours := pids[w.Path]; ours && pid == w.PID {
				got = append(got, w.Path)
			}
		}
		sort.Strings(got)
		want := []string{scratch}
		if d == logs {
			want = []string{applog, syslog}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FindWriters(%s) (-want +got):\n%s", d, diff)
		}
	}
}

// findWriters with a process name reads only that process's descriptors:
// the helper is found under its own name and not under another.
func TestFindWritersByName(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "journal")
	cmd, _ := startWriter(t, file)
	comm := readComm("/proc", cmd.Process.Pid)
	count := func(name string) int {
		ws, err := findWriters("/proc", map[string]int{dir: 0}, name)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, w := range ws {
			if w.PID == cmd.Process.Pid && w.Path == file {
				n++
			}
		}
		return n
	}
	if n := count(comm); n != 1 {
		t.Errorf("by its name %q: found %d times, want 1", comm, n)
	}
	if n := count("systemd-journal"); n != 0 {
		t.Errorf("by another name: found %d times, want 0", n)
	}
	if n := count(""); n != 1 {
		t.Errorf("any name: found %d times, want 1", n)
	}
}

// The scan after the mounts: one pass per path against one pass for all.
func BenchmarkFindWritersPerPath(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for _, d := range []string{"/var/log", "/var/tmp"} {
			if _, err := FindWriters("/proc", d, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFindWritersOnePass(b *testing.B) {
	dirs := map[string]int{"/var/log": 0, "/var/tmp": 0}
	for i := 0; i < b.N; i++ {
		if _, err := FindWritersIn("/proc", dirs); err != nil {
			b.Fatal(err)
		}
	}
}
