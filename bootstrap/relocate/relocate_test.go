package relocate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// tmpfsScenario is a root with a rich /var/log, a /var/tmp, a /tmp that is
// already a tmpfs, and a tmpfs "instance store" at /mnt.
func tmpfsScenario(t *testing.T, storeSize string) (root string, before Manifest) {
	t.Helper()
	root = newRoot(t, "ebs-only")
	makeLogTree(t, filepath.Join(root, "var/log"))
	must(t, os.MkdirAll(filepath.Join(root, "var/tmp/keep"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "var/tmp/keep/file"), []byte("tmp data"), 0o644))
	must(t, unix.Chmod(filepath.Join(root, "var/tmp"), 0o1777))
	mustMount(t, "fake-tmp", filepath.Join(root, "tmp"), "tmpfs", "size=1m,mode=1777")
	fakeStoreTmpfs(t, root, "64m", ModelInstanceStore)
	return root, manifestOf(t, filepath.Join(root, "var/log"))
}

func TestRelocateOntoTmpfsStore(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, before := tmpfsScenario(t, "64m")
	varTmpBefore := manifestOf(t, filepath.Join(root, "var/tmp"))
	env := newEnv(t, root)
	s := New()

	res, planText, err := runStep(t, s, env)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Logf("plan:\n%s", planText)
	for _, want := range []string{
		"instance store nvme1n1 (nvme model) is mounted at /mnt",
		"/var/log: copy ", "to /mnt/ec2boot/var/log, verify by checksum",
		"/tmp: skip: already a tmpfs",
	} {
		if !strings.Contains(planText, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	if len(res.Changed) != 2 || len(res.Degraded) != 0 {
		t.Errorf("result = %+v, want two changes (/var/log, /var/tmp) and nothing degraded", res)
	}

	orig := filepath.Join(root, "var/log")
	// Nothing lost: every file's checksum, owner, mode, xattrs and times
	// are the same in the relocated view and in the hidden original.
	if d := before.Diff(manifestOf(t, orig)); len(d) > 0 {
		t.Errorf("relocated /var/log differs from the original:\n%q", d)
	}
	if d := before.Diff(hiddenManifest(t, orig)); len(d) > 0 {
		t.Errorf("the hidden original changed:\n%q", d)
	}
	if d := varTmpBefore.Diff(manifestOf(t, filepath.Join(root, "var/tmp"))); len(d) > 0 {
		t.Errorf("relocated /var/tmp differs:\n%q", d)
	}
	wantMounts := map[string][]string{
		"var/log": {"tmpfs:/ec2boot/var/log"},
		"var/tmp": {"tmpfs:/ec2boot/var/tmp"},
		"tmp":     {"tmpfs:/"},
	}
	for p, want := range wantMounts {
		if d := cmp.Diff(want, mountsAt(t, filepath.Join(root, p))); d != "" {
			t.Errorf("mounts at /%s (-want +got):\n%s", p, d)
		}
	}
	var st unix.Stat_t
	must(t, unix.Stat(filepath.Join(root, "var/tmp"), &st))
	if st.Mode&0o7777 != 0o1777 {
		t.Errorf("/var/tmp mode %o, want 1777", st.Mode&0o7777)
	}
	// Writes go to the instance store now.
	must(t, os.WriteFile(filepath.Join(orig, "new.log"), []byte("after"), 0o644))
	if _, err := os.Stat(filepath.Join(root, "mnt/ec2boot/var/log/new.log")); err != nil {
		t.Errorf("a new log file is not on the instance store: %v", err)
	}
	var m Marker
	b, err := os.ReadFile(filepath.Join(root, "mnt/ec2boot", markerName))
	must(t, err)
	must(t, json.Unmarshal(b, &m))
	wantMarker := Marker{InstanceID: "i-0123456789abcdef0", Paths: map[string]MarkerEntry{
		"/var/log": {State: stateBound, Seed: "copy"}, "/var/tmp": {State: stateBound, Seed: "copy"}}}
	if d := cmp.Diff(wantMarker, m); d != "" {
		t.Errorf("marker (-want +got):\n%s", d)
	}

	// A second run changes nothing: no mounts, no copies, no writes.
	markerBefore := statOf(t, filepath.Join(root, "mnt/ec2boot", markerName))
	stateBefore := statOf(t, filepath.Join(root, "var/lib/ec2boot/relocate.json"))
	res, planText, err = runStep(t, New(), newEnv(t, root))
	if err != nil || len(res.Changed) != 0 || len(res.Degraded) != 0 {
		t.Errorf("second run: %+v, %v; want no change", res, err)
	}
	if !strings.Contains(planText, "/var/log: already relocated") {
		t.Errorf("second plan does not say already relocated:\n%s", planText)
	}
	for p, want := range wantMounts {
		if d := cmp.Diff(want, mountsAt(t, filepath.Join(root, p))); d != "" {
			t.Errorf("after a second run, mounts at /%s (-want +got):\n%s", p, d)
		}
	}
	if d := cmp.Diff(markerBefore, statOf(t, filepath.Join(root, "mnt/ec2boot", markerName))); d != "" {
		t.Errorf("the second run rewrote the marker: %s", d)
	}
	if d := cmp.Diff(stateBefore, statOf(t, filepath.Join(root, "var/lib/ec2boot/relocate.json"))); d != "" {
		t.Errorf("the second run rewrote the state: %s", d)
	}
}

type fileStat struct {
	Ino   uint64
	Mtime int64
	Ctime int64
}

func statOf(t *testing.T, p string) fileStat {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Stat(p, &st))
	return fileStat{st.Ino, st.Mtim.Nano(), st.Ctim.Nano()}
}

func TestNoInstanceStoreDoesNothing(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		want  string
	}{
		{"ebs only, /mnt a plain directory", func(*testing.T, string) {},
			"no instance store on this instance (/mnt stays on the root disk): nothing to relocate"},
		{"/mnt mounted from EBS", func(t *testing.T, root string) {
			fakeStoreTmpfs(t, root, "8m", ModelEBS)
		}, "/mnt is mounted from nvme1n1 (Amazon Elastic Block Store), which is not instance store: nothing to relocate"},
		{"/mnt on the root disk even if it looked like instance store", func(t *testing.T, root string) {
			// A bind mount of the root filesystem at /mnt, with sysfs
			// claiming the root disk is instance store.
			var st unix.Stat_t
			must(t, unix.Stat(root, &st))
			fakeDisk(t, root, "nvme1n1", ModelInstanceStore, fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)), "")
			must(t, os.MkdirAll(root+"/var/lib/other", 0o755))
			must(t, unix.Mount(root+"/var/lib/other", root+"/mnt", "", unix.MS_BIND, ""))
		}, "/mnt is on the root disk: nothing to relocate"},
		{"/mnt a tmpfs sysfs does not know", func(t *testing.T, root string) {
			mustMount(t, "other", filepath.Join(root, "mnt"), "tmpfs", "size=8m")
		}, "/mnt is mounted from tmpfs other, which is not instance store: nothing to relocate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRoot(t, "ebs-only")
			makeLogTree(t, filepath.Join(root, "var/log"))
			tt.setup(t, root)
			before := manifestOf(t, root+"/var/log")
			res, planText, err := runStep(t, New(), newEnv(t, root))
			if err != nil || len(res.Changed)+len(res.Degraded) != 0 {
				t.Errorf("result %+v, %v; want nothing", res, err)
			}
			if strings.TrimSpace(planText) != tt.want {
				t.Errorf("plan = %q, want %q", planText, tt.want)
			}
			if got := mountsAt(t, root+"/var/log"); len(got) != 0 {
				t.Errorf("mounted %v at /var/log", got)
			}
			if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
				t.Errorf("/var/log changed: %q", d)
			}
			if _, err := os.Stat(root + "/mnt/ec2boot"); err == nil {
				t.Errorf("created /mnt/ec2boot")
			}
		})
	}
}

func TestStoreFillsMidCopy(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, before := tmpfsScenario(t, "")
	// Remount the store small: the check passes, then something else
	// fills it while we copy.
	unmountUnder(t, filepath.Join(root, "mnt"))
	must(t, os.RemoveAll(filepath.Join(root, "sys/dev")))
	fakeStoreTmpfs(t, root, "24m", ModelInstanceStore)
	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	s := New()
	filler := filepath.Join(root, "mnt/filler")
	s.hook = func(stage, path string) error {
		if stage == "preflight" {
			f, err := os.Create(filler)
			must(t, err)
			buf := make([]byte, 1<<20)
			for {
				if _, err := f.Write(buf); err != nil {
					break
				}
			}
			f.Close()
		}
		return nil
	}
	res, _, err := runStep(t, s, env)
	if err == nil || !strings.Contains(err.Error(), "relocate /var/log") || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error = %v, want ENOSPC naming /var/log", err)
	}
	if len(res.Changed) != 0 {
		t.Errorf("changes reported: %q", res.Changed)
	}
	if got := mountsAt(t, root+"/var/log"); len(got) != 0 {
		t.Errorf("mounted %v at /var/log after a failed copy", got)
	}
	if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
		t.Errorf("the original changed: %q", d)
	}
	if ents, _ := os.ReadDir(root + "/mnt/ec2boot/.staging"); len(ents) != 0 {
		t.Errorf("partial copy left behind: %v", ents)
	}
	// Space freed: the next run converges.
	must(t, os.Remove(filler))
	s.hook = nil
	if _, _, err := runStep(t, s, env); err != nil {
		t.Fatalf("run after freeing space: %v", err)
	}
	if d := cmp.Diff([]string{"tmpfs:/ec2boot/var/log"}, mountsAt(t, root+"/var/log")); d != "" {
		t.Errorf("mounts (-want +got):\n%s", d)
	}
	if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
		t.Errorf("relocated copy differs: %q", d)
	}
}

func TestNotEnoughSpaceRefusedBeforeCopy(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root := newRoot(t, "ebs-only")
	makeLogTree(t, root+"/var/log")
	must(t, os.WriteFile(root+"/var/log/big", make([]byte, 12<<20), 0o644))
	fakeStoreTmpfs(t, root, "16m", ModelInstanceStore)
	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	_, _, err := runStep(t, New(), env)
	if err == nil || !strings.Contains(err.Error(), "relocate /var/log: not enough space on the instance store") {
		t.Fatalf("error = %v, want not enough space naming /var/log", err)
	}
	if ents, _ := os.ReadDir(root + "/mnt/ec2boot/.staging"); len(ents) != 0 {
		t.Errorf("copied although it does not fit: %v", ents)
	}
}

func TestReclaim(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, before := tmpfsScenario(t, "64m")
	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	env.Config.Relocate.Reclaim = true
	res, planText, err := runStep(t, New(), env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(planText, "reclaim:") {
		t.Errorf("plan does not mention reclaim:\n%s", planText)
	}
	if len(res.Changed) != 2 || !strings.Contains(res.Changed[1], "/var/log: reclaimed 12 files") {
		t.Errorf("changes = %q, want the copy and a reclaim of 12 files", res.Changed)
	}
	if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
		t.Errorf("relocated copy differs: %q", d)
	}
	hidden := hiddenManifest(t, root+"/var/log")
	for rel, e := range hidden {
		if e.Type != "dir" {
			t.Errorf("hidden original still has %s (%s)", rel, e.Type)
		}
	}
	for rel, e := range before {
		if e.Type == "dir" && hidden[rel].Type != "dir" {
			t.Errorf("reclaim removed directory %s", rel)
		}
	}
	res, _, err = runStep(t, New(), env)
	if err != nil || len(res.Changed) != 0 {
		t.Errorf("second run: %+v, %v; want nothing", res, err)
	}
}
