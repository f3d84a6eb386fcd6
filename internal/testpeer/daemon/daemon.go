// Package daemon starts and stops the peer processes tests and benchmarks
// run (named, knotd, a booted container, the metadata emulator): the child
// dies with the thread that started it, its output is kept for failure
// messages, a wait for readiness ends early when it exits, and stopping
// asks first (SIGTERM) and kills only after a grace period.
//
//	p, err := daemon.StartDNS(exec.Command(named, "-g", "-c", conf), addr, zone)
//	// err wraps ErrAddrInUse when the port was taken: Retry picks another.
//	defer p.Stop(5 * time.Second)
package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Log collects a process's output while tests read it.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Process is a started daemon.
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *Log
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

// Start starts cmd. Its stdout and stderr go to the Log that Log returns
// unless the caller routed them elsewhere. The child gets SIGKILL when the
// thread that started it ends, so a test binary that dies leaves no daemon
// behind.
func Start(cmd *exec.Cmd) (*Process, error) {
	p := &Process{name: filepath.Base(cmd.Path), cmd: cmd, out: &Log{}, done: make(chan struct{})}
	if cmd.Stdout == nil && cmd.Stderr == nil {
		cmd.Stdout, cmd.Stderr = p.out, p.out
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Log is what the process printed so far (empty when the caller routed
// its output elsewhere).
func (p *Process) Log() string { return p.out.String() }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to grace for the process to end and kills
// it after that; it reports whether it had to kill. Stopping an ended
// process does nothing.
func (p *Process) Stop(grace time.Duration) (killed bool) {
	if ended, _ := p.Exited(); ended {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
		p.Kill()
		return true
	}
}

// Kill ends the process at once and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// WaitReady calls ready every interval until it says yes, returns an
// error, the process exits, or limit passes. On any failure it stops the
// process (grace 5 s) and says why, with the process's output.
func (p *Process) WaitReady(limit, every time.Duration, ready func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ended, err := p.Exited(); ended {
			return fmt.Errorf("%s exited (%v):\n%s", p.name, err, p.Log())
		}
		ok, err := ready()
		if err != nil {
			p.Stop(5 * time.Second)
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(every)
	}
	p.Stop(5 * time.Second)
	return fmt.Errorf("%s not ready within %s:\n%s", p.name, limit, p.Log())
}

// ErrAddrInUse says the daemon could not bind its address: another test
// took the free port between FreePort and the daemon's start.
var ErrAddrInUse = errors.New("address in use")

// addrInUse reports whether a daemon's log says its address is taken
// (named: "address in use", knotd: "Address already in use").
func addrInUse(log string) bool {
	l := strings.ToLower(log)
	return strings.Contains(l, "address in use") || strings.Contains(l, "address already in use")
}

// WaitSOA waits until the process serves zone's SOA at addr (see
// AnswersSOA). A log line saying the address is taken ends the wait with
// ErrAddrInUse.
func (p *Process) WaitSOA(addr, zone string, limit time.Duration) error {
	err := p.WaitReady(limit, 5*time.Millisecond, func() (bool, error) {
		if addrInUse(p.Log()) {
			return false, fmt.Errorf("%s on %s: %w", p.name, addr, ErrAddrInUse)
		}
		return AnswersSOA(addr, zone), nil
	})
	if err != nil && !errors.Is(err, ErrAddrInUse) {
		return fmt.Errorf("%s on %s: %w", p.name, addr, err)
	}
	return err
}

// StartDNS starts a DNS daemon and waits up to 10 s until it serves
// zone's SOA at addr (see WaitSOA).
func StartDNS(cmd *exec.Cmd, addr, zone string) (*Process, error) {
	p, err := Start(cmd)
	if err != nil {
		return nil, err
	}
	if err := p.WaitSOA(addr, zone, 10*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// Retry calls start up to attempts times while it fails with ErrAddrInUse,
// and returns its last result.
func Retry[T any](attempts int, start func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for i := 0; i < attempts; i++ {
		if v, err = start(); err == nil || !errors.Is(err, ErrAddrInUse) {
			break
		}
	}
	return v, err
}
