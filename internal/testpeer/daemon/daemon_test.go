package daemon

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func start(t *testing.T, script string) *Process {
	t.Helper()
	p, err := Start(exec.Command("sh", "-c", script))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func TestWaitReadyAndStop(t *testing.T) {
	p := start(t, `echo up; exec sleep 60`)
	err := p.WaitReady(10*time.Second, time.Millisecond, func() (bool, error) {
		return strings.Contains(p.Log(), "up\n"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Stop(5 * time.Second) {
		t.Error("Stop killed a process that ends on SIGTERM")
	}
	if ended, err := p.Exited(); !ended || err == nil {
		t.Errorf("after Stop: ended %v, %v; want ended by a signal", ended, err)
	}
	if p.Stop(time.Second) {
		t.Error("a second Stop killed again")
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	p := start(t, `trap "" TERM; echo trapped; while :; do sleep 0.01; done`)
	if err := p.WaitReady(10*time.Second, time.Millisecond, func() (bool, error) {
		return strings.Contains(p.Log(), "trapped"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if !p.Stop(50 * time.Millisecond) {
		t.Error("Stop did not kill a process that ignores SIGTERM")
	}
	if ended, _ := p.Exited(); !ended {
		t.Error("process still running after Stop")
	}
}

func TestWaitReadyFailures(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		ready        func() (bool, error)
		want         string
	}{
		{"exit", `echo broken config; exit 3`, func() (bool, error) { return false, nil },
			"sh exited (exit status 3):\nbroken config\n"},
		{"timeout", `echo still starting; exec sleep 60`, func() (bool, error) { return false, nil },
			"sh not ready within 200ms:\nstill starting\n"},
		{"refused", `exec sleep 60`, func() (bool, error) { return false, errors.New("bad answer") },
			"bad answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, tc.script)
			if tc.name == "exit" {
				<-p.Done()
			}
			err := p.WaitReady(200*time.Millisecond, time.Millisecond, tc.ready)
			if err == nil {
				t.Fatal("WaitReady succeeded")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if ended, _ := p.Exited(); !ended {
				t.Error("WaitReady failed but left the process running")
			}
		})
	}
}

func TestWaitSOAStopsOnAddressInUse(t *testing.T) {
	for _, line := range []string{
		"binding TCP socket: address in use",                  // named
		"error: cannot bind address (Address already in use)", // knotd
	} {
		p := start(t, fmt.Sprintf(`echo %q; exec sleep 60`, line))
		err := p.WaitSOA("127.0.0.1:1", "example.test", 10*time.Second)
		if !errors.Is(err, ErrAddrInUse) {
			t.Errorf("%q: WaitSOA = %v, want ErrAddrInUse", line, err)
		}
	}
}

func TestRetry(t *testing.T) {
	inUse := fmt.Errorf("x: %w", ErrAddrInUse)
	other := errors.New("bad config")
	for _, tc := range []struct {
		name      string
		errs      []error
		attempts  int
		wantCalls int
		wantErr   error
	}{
		{"first try", []error{nil}, 5, 1, nil},
		{"in use then up", []error{inUse, inUse, nil}, 5, 3, nil},
		{"in use every time", []error{inUse, inUse, inUse}, 3, 3, ErrAddrInUse},
		{"other error stops", []error{other, nil}, 5, 1, other},
		{"one attempt", []error{inUse, nil}, 1, 1, ErrAddrInUse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			v, err := Retry(tc.attempts, func() (int, error) {
				calls++
				return calls, tc.errs[calls-1]
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) || (err == nil && v != calls) {
				t.Errorf("calls %d, value %d, err %v; want %d calls, err %v", calls, v, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
}

func TestFreePortTakesTCPAndUDP(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("tcp %s: %v", addr, err)
	}
	defer l.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("udp %s: %v", addr, err)
	}
	pc.Close()
}
