package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	testdaemon "github.com/ec2boot/ec2boot/internal/testpeer/daemon"
)

// sample is what one measured process cost.
type sample struct {
	Wall      time.Duration
	RC        int
	MaxRSSKiB int64
	MinFlt    int64
	MajFlt    int64
	CPU       time.Duration // user + system
	// WriteBytes is /proc/PID/io write_bytes: bytes the process caused to
	// be sent to storage (page cache pages it dirtied).
	WriteBytes int64
}

// procTimeout bounds every measured process: nothing in the benchmark may
// hang the run.
const procTimeout = 60 * time.Second

// timeFormat is what GNU time reports: peak RSS (KiB), minor and major
// faults, user and system seconds, exit status.
const timeFormat = "%M %R %F %U %S %x"

// measure runs argv to completion under GNU time and reports its cost.
// Output goes to log (appended).
//
// Why GNU time: a Go program starts children with vfork, and the kernel
// counts the parent's resident set into the child's peak RSS until the
// exec; time forks (a copy of its own small image) and then execs, so the
// child's peak RSS is its own. The wall time is taken here; it includes
// time's fork and exec (the "floor" row of the results), the same for every
// program measured. /proc/PID/io of time, read before it is reaped,
// includes the reaped child's I/O.
func measure(argv []string, env []string, dir, log string) (sample, error) {
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return sample{}, err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n### %s\n", strings.Join(argv, " "))
	tf, err := os.CreateTemp("", "bench-time-*")
	if err != nil {
		return sample{}, err
	}
	tf.Close()
	defer os.Remove(tf.Name())
	full := append([]string{timeBin, "-o", tf.Name(), "-f", timeFormat}, argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, lf, lf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	pid := cmd.Process.Pid
	timer := time.AfterFunc(procTimeout, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var info unix.Siginfo
	for {
		err = unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	wall := time.Since(start)
	wb := readWriteBytes(pid)
	werr := cmd.Wait()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return sample{}, werr
	}
	if cmd.ProcessState.ExitCode() < 0 {
		return sample{}, fmt.Errorf("%s: killed after %s", argv[0], procTimeout)
	}
	s := sample{Wall: wall, WriteBytes: wb}
	out, err := os.ReadFile(tf.Name())
	if err != nil {
		return s, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 6 {
		return s, fmt.Errorf("%s: unexpected output of time: %q", argv[0], out)
	}
	var user, sys float64 // centiseconds: too coarse, see below
	_, err = fmt.Sscan(strings.Join(f, " "), &s.MaxRSSKiB, &s.MinFlt, &s.MajFlt, &user, &sys, &s.RC)
	// CPU from wait4 (microseconds; it includes the reaped child) rather
	// than time's centiseconds.
	s.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return s, err
}

// timeBin is GNU time.
const timeBin = "/usr/bin/time"

func readWriteBytes(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// fileID identifies one version of a file.
type fileID struct {
	dev, ino uint64
	ctime    int64
	size     int64
	regular  bool
}

// tree is a snapshot of a --root directory.
type tree map[string]fileID

func snapshot(root string) tree {
	t := tree{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "sys" || rel == "proc" {
			return fs.SkipDir
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return nil
		}
		t[rel] = fileID{dev: st.Dev, ino: st.Ino, ctime: st.Ctim.Nano(), size: st.Size,
			regular: st.Mode&unix.S_IFMT == unix.S_IFREG}
		return nil
	})
	return t
}

// written is what changed between two snapshots: files created or
// rewritten, and their bytes, split between /run (a tmpfs on a real
// system) and everything else. A file seen through a bind mount at two
// paths counts once.
type written struct {
	Files, Bytes       int64
	RunFiles, RunBytes int64
	Paths              []string
}

func diffTrees(before, after tree) written {
	var w written
	seen := map[[2]uint64]bool{}
	for p, a := range after {
		if !a.regular {
			continue
		}
		b, ok := before[p]
		if ok && b == a {
			continue
		}
		k := [2]uint64{a.dev, a.ino}
		if seen[k] {
			continue
		}
		seen[k] = true
		if p == "run" || strings.HasPrefix(p, "run/") {
			w.RunFiles++
			w.RunBytes += a.size
			continue
		}
		w.Files++
		w.Bytes += a.size
		w.Paths = append(w.Paths, p)
	}
	return w
}

// daemon is a peer process the benchmark started.
type daemon struct {
	name string
	proc *testdaemon.Process
	log  string
}

func startDaemon(name string, argv []string, env []string, log string) (*daemon, error) {
	lf, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	// The child has its own copy of the descriptor once started.
	defer lf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, lf, lf
	p, err := testdaemon.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &daemon{name: name, proc: p, log: log}, nil
}

func (d *daemon) alive() bool {
	ended, _ := d.proc.Exited()
	return !ended
}

// stop ends the daemon: SIGTERM, then SIGKILL after 3 s.
func (d *daemon) stop() {
	if d == nil {
		return
	}
	d.proc.Stop(3 * time.Second)
}

// waitLog waits until the daemon's log holds want.
func (d *daemon) waitLog(ctx context.Context, want string) (string, error) {
	for {
		b, _ := os.ReadFile(d.log)
		if i := strings.Index(string(b), want); i >= 0 {
			line := string(b[i:])
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			return line, nil
		}
		if !d.alive() {
			return "", fmt.Errorf("%s exited: %s", d.name, tail(string(b), 400))
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s: no %q within the deadline", d.name, want)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
