package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/daemon"
)

// container is one booted systemd-nspawn container: systemd as PID 1 on a
// volatile overlay of the image, in the given network namespace.
type container struct {
	name string
	proc *daemon.Process
	pid1 int
}

// boot starts the container and waits until its systemd is up (not until
// boot finished: see waitRunning). SIGTERM to nspawn halts it cleanly;
// the cleanup does that, then kills after a grace period.
func boot(t *testing.T, rootfs, name, netns string) *container {
	t.Helper()
	return bootRoot(t, rootfs, name, netns, true)
}

// bootRoot is boot with a choice: volatile (a tmpfs overlay, the rootfs
// stays untouched and can be shared) or persistent (what the container
// writes stays for its next boot).
func bootRoot(t *testing.T, rootfs, name, netns string, volatile bool) *container {
	t.Helper()
	args := []string{"-m", "--propagation", "private", "--", "sh", "-c", nspawnWrapper, "sh",
		"-q", "-D", rootfs, "--register=no", "--keep-unit",
		"--machine=" + name, "--network-namespace-path=/run/netns/" + netns, "-b", "--console=pipe"}
	if volatile {
		args = append(args, "--volatile=overlay")
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	proc, err := daemon.Start(cmd)
	if err != nil {
		t.Fatalf("container %s: %v", name, err)
	}
	c := &container{name: name, proc: proc}
	t.Cleanup(func() { c.stop(t) })
	if err := proc.WaitReady(30*time.Second, 20*time.Millisecond, func() (bool, error) {
		c.pid1 = findChild(proc.Pid(), "systemd")
		return c.pid1 != 0, nil
	}); err != nil {
		t.Fatalf("container %s: no systemd: %v", name, err)
	}
	return c
}

// stop halts the container (SIGTERM makes nspawn shut the guest down) and
// waits; it is idempotent.
func (c *container) stop(t *testing.T) {
	if c.proc.Stop(30 * time.Second) {
		t.Errorf("container %s did not halt within 30s; killed it", c.name)
	}
}

// findChild returns the pid of parent's child process named comm, or 0.
func findChild(parent int, comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces.
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 || s[open+1:close] != comm {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == parent {
			return pid
		}
	}
	return 0
}

// exec runs a command inside the container (all its namespaces) and
// returns its output and error.
func (c *container) exec(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"-t", strconv.Itoa(c.pid1), "-a", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0", "LANG=C.UTF-8", "TERM=dumb"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (after %s)", ctx.Err(), timeout)
	}
	return out.String(), err
}

// must runs a command in the container and fails the test if it fails.
func (c *container) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.exec(time.Minute, args...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
	}
	return out
}

// waitRunning waits until boot finished and returns systemd's verdict
// ("running", or "degraded" when a unit failed).
func (c *container) waitRunning(t *testing.T) string {
	t.Helper()
	// Until systemd has its private socket, systemctl cannot connect; until
	// it has set up /run/systemd/system, systemctl answers "offline" (the
	// system looks not booted with systemd). Both are too early to ask; a
	// systemd that never comes up still ends as "offline" at the deadline.
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := c.exec(90*time.Second, "systemctl", "is-system-running", "--wait")
		out = strings.TrimSpace(out)
		early := strings.Contains(out, "Failed to connect to bus") || out == "offline"
		if !early || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jobsDone counts the start jobs of unit that finished successfully in
// this boot: one per run of a oneshot service.
func (c *container) jobsDone(t *testing.T, unit string) int {
	t.Helper()
	out, err := c.exec(time.Minute, "journalctl", "-b", "-q", "-o", "cat", "UNIT="+unit, "JOB_TYPE=start", "JOB_RESULT=done")
	if err != nil || strings.TrimSpace(out) == "" {
		return 0
	}
	return len(strings.Split(strings.TrimSpace(out), "\n"))
}

// waitJobs waits until unit has finished n start jobs.
func (c *container) waitJobs(t *testing.T, unit string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := c.jobsDone(t, unit)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", unit)
			t.Fatalf("%s: %s finished %d runs in %s, want %d\n%s", c.name, unit, got, limit, n, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// show returns systemctl show properties of a unit.
func (c *container) show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	out := c.must(t, "systemctl", "show", unit, "-p", strings.Join(props, ","))
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}
