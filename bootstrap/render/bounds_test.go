package render

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// runaway never writes and, without a bound, runs for hours: text/template
// has no way to stop it.
const runaway = "{{range 100000000000}}{{end}}"

// TestOutputCapStopsWhileWriting: a template that would write 500 MB
// (50,000,000 x 10 bytes) fails at the 16 MiB default cap, having held no
// more than the cap: the allocations stay far below what the whole output
// would take.
func TestOutputCapStopsWhileWriting(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := Execute(context.Background(), "big.tmpl", "{{range 50000000}}0123456789{{end}}", testData(), Limits{})
	runtime.ReadMemStats(&after)
	if err == nil || out != nil {
		t.Fatalf("rendered %d bytes, err = %v; want the size cap", len(out), err)
	}
	if want := "big.tmpl: output larger than max_size (16MiB)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB", alloc>>20)
	if alloc > 100<<20 {
		t.Errorf("allocated %d MiB for a template capped at 16 MiB", alloc>>20)
	}
}

func TestOutputCapExactFit(t *testing.T) {
	out, err := Execute(context.Background(), "fit.tmpl", "{{range 4}}0123456789{{end}}", testData(), Limits{MaxSize: 40})
	if err != nil || string(out) != strings.Repeat("0123456789", 4) {
		t.Fatalf("out = %q, err = %v", out, err)
	}
	if _, err := Execute(context.Background(), "fit.tmpl", "{{range 4}}0123456789{{end}}x", testData(), Limits{MaxSize: 40}); err == nil || !strings.Contains(err.Error(), "max_size (40B)") {
		t.Fatalf("one byte past the cap: err = %v", err)
	}
}

// TestCancelStopsWaiting: a cancelled run stops waiting for a template, and
// an abandoned execution that writes again fails at its next write.
func TestCancelStopsWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := Execute(ctx, "slow.tmpl", "{{range 100000000000}}x{{end}}", testData(), Limits{Timeout: time.Hour, MaxSize: 1 << 40})
	if err == nil || err.Error() != "slow.tmpl: rendering stopped: context canceled" {
		t.Fatalf("err = %v", err)
	}
}

// The runaway tests run in a child process: the abandoned execution spins
// until its process exits, as it does in ec2boot, and the child's exit is
// what ends it here.
func TestMain(m *testing.M) {
	switch os.Getenv("EC2BOOT_RENDER_RUNAWAY") {
	case "":
		os.Exit(m.Run())
	case "deadline":
		_, err := Execute(context.Background(), "/etc/ec2boot/loop.tmpl", runaway, Data{}, Limits{Timeout: 200 * time.Millisecond})
		fmt.Println(err)
	case "sigterm":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		fmt.Println("rendering")
		_, err := Execute(ctx, "/etc/ec2boot/loop.tmpl", runaway, Data{}, Limits{Timeout: time.Hour})
		fmt.Println(err)
	}
	os.Exit(0)
}

func runawayChild(t *testing.T, mode string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EC2BOOT_RENDER_RUNAWAY="+mode)
	return cmd
}

func TestRunawayRangeHitsDeadline(t *testing.T) {
	out, err := runawayChild(t, "deadline").Output()
	if err != nil {
		t.Fatalf("child: %v (a runaway template kept the run waiting?)", err)
	}
	if want := "/etc/ec2boot/loop.tmpl: rendering took longer than render_timeout (200ms)\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestRunawayRangeStopsOnSIGTERM(t *testing.T) {
	cmd := runawayChild(t, "sigterm")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	if line, err := r.ReadString('\n'); line != "rendering\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	time.Sleep(100 * time.Millisecond) // let Execute start waiting
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := r.ReadString('\n')
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v (SIGTERM did not stop the wait)", err)
	}
	if want := "/etc/ec2boot/loop.tmpl: rendering stopped: terminated signal received\n"; rest != want {
		t.Errorf("got %q, want %q", rest, want)
	}
}

// TestStepOutputCapKeepsOldFile: a template past its max_size is reported
// in one line naming the template and the bound, and its file is kept.
func TestStepOutputCapKeepsOldFile(t *testing.T) {
	fx := newFixture(t)
	if _, _, err := fx.run(t); err != nil {
		t.Fatal(err)
	}
	fx.units.take()
	old := fx.read(t, "/etc/nginx/upstream.conf")
	os.WriteFile(filepath.Join(fx.root, "etc/ec2boot/nginx-upstream.conf.tmpl"), []byte("{{range 100000}}0123456789{{end}}"), 0o644)
	fx.cfg.Templates[0].MaxSize = config.Size(64 << 10)
	desc, _, err := fx.run(t)
	want := "/etc/nginx/upstream.conf kept: /etc/ec2boot/nginx-upstream.conf.tmpl: output larger than max_size (64KiB)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if !strings.Contains(desc, "cannot render, the file is kept") {
		t.Errorf("plan:\n%s", desc)
	}
	if fx.read(t, "/etc/nginx/upstream.conf") != old {
		t.Errorf("old file not kept")
	}
	if got := fx.units.take(); len(got) != 0 {
		t.Errorf("actions ran for a file not written: %v", got)
	}
}
