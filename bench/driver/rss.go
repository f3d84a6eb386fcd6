package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// rssSplit is a process's resident set as it exits: anonymous memory (the
// heap, stacks, written data) and file-backed pages (the binary's own
// pages, shared with the page cache), and the peak of both together.
type rssSplit struct {
	AnonKiB, FileKiB, PeakKiB int64
}

// rssAtExit runs argv under ptrace and reads /proc/PID/status when the
// process is about to exit (PTRACE_EVENT_EXIT: its memory is still
// mapped). GNU time reports only the peak; this says what it is made of.
// A Go program's heap is not returned before exit, so the resident set at
// exit is close to the peak; PeakKiB (VmHWM) shows how close.
func rssAtExit(argv, env []string, dir, log string) (rssSplit, error) {
	// Every ptrace request must come from the thread that started the
	// tracee.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return rssSplit{}, err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n### (resident set at exit) %s\n", strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return rssSplit{}, err
	}
	pid := cmd.Process.Pid
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		return rssSplit{}, err
	}
	if err := syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACEEXIT); err != nil {
		_ = cmd.Process.Kill()
		return rssSplit{}, err
	}
	var out rssSplit
	var readErr error
	sig := 0
	for {
		if err := syscall.PtraceCont(pid, sig); err != nil {
			return out, err
		}
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return out, err
		}
		if ws.Exited() || ws.Signaled() {
			break
		}
		sig = 0
		switch {
		case ws.Stopped() && ws.TrapCause() == syscall.PTRACE_EVENT_EXIT:
			out, readErr = readRSS(pid)
		case ws.Stopped() && ws.StopSignal() != syscall.SIGTRAP:
			sig = int(ws.StopSignal()) // the program's own signal: pass it on
		}
	}
	return out, readErr
}

func readRSS(pid int) (rssSplit, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rssSplit{}, err
	}
	defer f.Close()
	var r rssSplit
	fields := map[string]*int64{"RssAnon:": &r.AnonKiB, "RssFile:": &r.FileKiB, "VmHWM:": &r.PeakKiB}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if p, ok := fields[fl[0]]; ok && len(fl) >= 2 {
			*p, _ = strconv.ParseInt(fl[1], 10, 64)
		}
	}
	if r.PeakKiB == 0 {
		return r, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
	}
	return r, sc.Err()
}

// residentAtExit runs the cold job, the no-change job and `version` of
// each binary a few more times under rssAtExit (0 ms latency; not timed).
func (b *bench) residentAtExit() error {
	b.setLatency(0)
	b.res.RSSAtExit = map[string][]rssSplit{}
	runs := 3
	if b.opt.quick {
		runs = 1
	}
	log := filepath.Join(b.opt.out, "ec2boot-rss.log")
	for i := 0; i < runs; i++ {
		for _, bin := range b.binaries(i) {
			if err := b.restartProvider(staleSelf); err != nil {
				return err
			}
			root := b.scratch("rss")
			_ = removeRoot(root)
			spec := rootSpec{config: expand(fullConfig, b.dns.Addr, b.provider.Addr, true),
				relocate: true, dirs: true, templates: filepath.Join(b.opt.src, "templates")}
			if err := makeRoot(root, spec); err != nil {
				return err
			}
			argv := []string{bin.path, "run", "--root", root, "--imds-endpoint", "http://" + b.imds.Addr, "--log-format", "json"}
			for _, kind := range []string{"cold", "nochange"} {
				r, err := rssAtExit(argv, b.env, root, log)
				if err != nil {
					return fmt.Errorf("%s %s: %w", bin.path, kind, err)
				}
				b.res.RSSAtExit[bin.prefix+kind] = append(b.res.RSSAtExit[bin.prefix+kind], r)
			}
			if err := removeRoot(root); err != nil {
				return err
			}
			r, err := rssAtExit([]string{bin.path, "version"}, b.env, b.opt.out, log)
			if err != nil {
				return err
			}
			b.res.RSSAtExit[bin.prefix+"version"] = append(b.res.RSSAtExit[bin.prefix+"version"], r)
		}
	}
	return nil
}

// medianRSS is the median of each part over the runs.
func medianRSS(rs []rssSplit) rssSplit {
	var a, f, p []int64
	for _, r := range rs {
		a, f, p = append(a, r.AnonKiB), append(f, r.FileKiB), append(p, r.PeakKiB)
	}
	return rssSplit{AnonKiB: median(a), FileKiB: median(f), PeakKiB: median(p)}
}
