package relocate

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

const writerEnv = "RELOCATE_TEST_WRITER"

// TestHelperWriter is not a test: started with RELOCATE_TEST_WRITER=file,
// it holds file open for appending like a log daemon, writes a line on
// SIGUSR1 and reopens the file on SIGHUP, as rsyslogd does.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(writerEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		return f
	}
	f := open()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGTERM)
	fmt.Println("ready")
	n := 0
	for s := range sigs {
		switch s {
		case syscall.SIGHUP:
			f.Close()
			f = open()
		case syscall.SIGUSR1:
			n++
			fmt.Fprintf(f, "write %d\n", n)
			fmt.Println("wrote", n)
		case syscall.SIGTERM:
			os.Exit(0)
		}
	}
}

// startWriter starts the helper holding file open and waits until it is.
func startWriter(t *testing.T, file string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), writerEnv+"="+file)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("writer did not start: %q", sc.Text())
	}
	return cmd, sc
}

// writeLine makes the helper write a line and waits until it has.
func writeLine(t *testing.T, cmd *exec.Cmd, sc *bufio.Scanner) {
	t.Helper()
	must(t, cmd.Process.Signal(syscall.SIGUSR1))
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "wrote") {
		t.Fatalf("writer did not write: %q", sc.Text())
	}
}

func TestWriterHoldingAFileOpen(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	logFile := filepath.Join(root, "var/log/app/app.log")
	cmd, sc := startWriter(t, logFile)
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid))
	must(t, err)
	pid := strconv.Itoa(cmd.Process.Pid)

	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	res, _, err := runStep(t, New(), env)
	if err != nil {
		t.Fatal(err)
	}
	want := "pid " + pid + " (" + strings.TrimSpace(string(comm)) + ") still writes to /var/log/app/app.log on the root disk"
	if len(res.Degraded) != 1 || !strings.HasPrefix(res.Degraded[0], want) ||
		!strings.Contains(res.Degraded[0], `relocate.open_files = "restart"`) {
		t.Fatalf("degraded = %q, want %q", res.Degraded, want)
	}
	// What it writes now is lost to view: it lands on the hidden original.
	writeLine(t, cmd, sc)
	if b, _ := os.ReadFile(logFile); strings.Contains(string(b), "write 1") {
		t.Fatalf("the write went to the relocated file; the test proves nothing")
	}

	// With open_files = "restart", it is told to reopen (SIGHUP).
	env.Config.Relocate.OpenFiles = "restart"
	env.Config.Relocate.Reopen = []config.Reopen{{Process: strings.TrimSpace(string(comm)), Signal: "HUP"}}
	res, _, err = runStep(t, New(), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Degraded) != 0 || len(res.Changed) != 1 || !strings.Contains(res.Changed[0], "(pid "+pid+") to reopen its files") {
		t.Fatalf("result = %+v, want one reopen and nothing degraded", res)
	}
	writeLine(t, cmd, sc)
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "write 2") {
		t.Errorf("after the reopen the write still does not reach the relocated file: %q", b)
	}
	ws, err := FindWriters("/proc", filepath.Join(root, "var/log"), 0)
	must(t, err)
	if len(ws) != 1 || ws[0].PID != cmd.Process.Pid {
		t.Errorf("FindWriters(any mount) = %v, want the helper", ws)
	}

	// Nobody writes to the hidden original any more, and nothing new is
	// mounted: the next run does not scan the processes again; --force does.
	for _, force := range []bool{false, true} {
		s, scans := New(), 0
		s.hook = func(stage, _ string) error {
			if stage == "scan-writers" {
				scans++
			}
			return nil
		}
		env.Force = force
		res, _, err = runStep(t, s, env)
		if err != nil || len(res.Degraded) != 0 {
			t.Fatalf("force=%v: %+v, %v", force, res, err)
		}
		if want := map[bool]int{false: 0, true: 1}[force]; scans != want {
			t.Errorf("force=%v: %d scans for writers, want %d", force, scans, want)
		}
	}
}

// A log written between the copy and its verification, twice: the copy is
// accepted because a process holds that file open for writing, and the
// writer is reported.
func TestBusyWriterDuringCopy(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	cmd, sc := startWriter(t, filepath.Join(root, "var/log/app/app.log"))
	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	s := New()
	writes := 0
	s.hook = func(stage, _ string) error {
		if stage == "verify" {
			writeLine(t, cmd, sc)
			writes++
		}
		return nil
	}
	res, _, err := runStep(t, s, env)
	if writes != 2 {
		t.Errorf("copied %d times, want 2 (a retry after the first mismatch)", writes)
	}
	if err != nil {
		t.Fatalf("relocation with a busy log: %v", err)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	if len(res.Changed) != 1 || len(res.Degraded) != 1 || !strings.HasPrefix(res.Degraded[0], "pid "+pid+" ") {
		t.Errorf("result = %+v, want the copy and the busy writer reported", res)
	}
	if got := mountsAt(t, root+"/var/log"); len(got) != 1 {
		t.Errorf("mounts = %v", got)
	}
}

const killEnv = "RELOCATE_TEST_KILL"

// TestHelperKilledRelocation is not a test: started with
// RELOCATE_TEST_KILL=root:stage, it relocates /var/log under root and kills
// itself with SIGKILL at stage, as a power cut or OOM kill would.
func TestHelperKilledRelocation(t *testing.T) {
	spec := os.Getenv(killEnv)
	if spec == "" {
		t.Skip("helper process only")
	}
	root, stage, _ := strings.Cut(spec, ":")
	env := newEnv(t, root)
	env.Config.Relocate.Paths = []string{"/var/log"}
	s := New()
	s.hook = func(at, path string) error {
		if at == stage {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
		return nil
	}
	runStep(t, s, env)
	t.Fatalf("stage %q never reached", stage)
}

func TestKilledRunConverges(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	for _, stage := range []string{"preflight", "verified", "copied", "bound"} {
		t.Run(stage, func(t *testing.T) {
			root, before := tmpfsScenario(t, "64m")
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledRelocation$")
			cmd.Env = append(os.Environ(), killEnv+"="+root+":"+stage)
			out, err := cmd.CombinedOutput()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed at %s: %v\n%s", stage, err, out)
			}
			if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
				t.Errorf("after the kill /var/log differs: %q", d)
			}
			env := newEnv(t, root)
			env.Config.Relocate.Paths = []string{"/var/log"}
			res, _, err := runStep(t, New(), env)
			if err != nil {
				t.Fatalf("run after the kill: %v", err)
			}
			wantChanges := 1
			if stage == "bound" {
				wantChanges = 0
			}
			if len(res.Changed) != wantChanges {
				t.Errorf("changes = %q, want %d", res.Changed, wantChanges)
			}
			if got := mountsAt(t, root+"/var/log"); len(got) != 1 || got[0] != "tmpfs:/ec2boot/var/log" {
				t.Errorf("mounts at /var/log = %v, want exactly one bind mount", got)
			}
			if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
				t.Errorf("relocated /var/log differs: %q", d)
			}
			if d := before.Diff(hiddenManifest(t, root+"/var/log")); len(d) > 0 {
				t.Errorf("hidden original differs: %q", d)
			}
			if ents, _ := os.ReadDir(root + "/mnt/ec2boot/.staging"); len(ents) != 0 {
				t.Errorf("staging left behind: %v", ents)
			}
			m, err := readMarker(root + "/mnt/ec2boot")
			if err != nil || m.Paths["/var/log"].State != stateBound {
				t.Errorf("marker = %+v, %v; want /var/log bound", m, err)
			}
		})
	}
}

// A file that changes between copy and verification with nobody holding it
// open (rotated by a cron job, say) is a real mismatch: nothing is mounted.
func TestChangedFileWithoutWriterFails(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	s := New()
	n := 0
	s.hook = func(stage, _ string) error {
		if stage == "verify" {
			n++
			must(t, os.WriteFile(filepath.Join(root, "var/log/apt/history.log"), []byte(fmt.Sprint("changed ", n)), 0o644))
		}
		return nil
	}
	_, _, err := runStep(t, s, newEnvPaths(t, root, "/var/tmp", "/var/log"))
	if err == nil || !strings.Contains(err.Error(), "relocate /var/log: the copy differs from the original") ||
		!strings.Contains(err.Error(), "apt/history.log: ") {
		t.Fatalf("error = %v, want a mismatch naming apt/history.log", err)
	}
	if got := mountsAt(t, root+"/var/log"); len(got) != 0 {
		t.Errorf("mounted %v after a failed verification", got)
	}
	if got := mountsAt(t, root+"/var/tmp"); len(got) != 1 {
		t.Errorf("/var/tmp was not relocated although only /var/log failed: %v", got)
	}
}

func newEnvPaths(t *testing.T, root string, paths ...string) *step.Env {
	env := newEnv(t, root)
	env.Config.Relocate.Paths = paths
	return env
}
