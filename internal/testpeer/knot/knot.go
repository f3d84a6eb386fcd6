// Package knot starts Debian's Knot DNS (knotd) for tests: one primary
// zone on a free loopback port, writable with RFC 2136 dynamic updates
// that an ACL grants to TSIG keys. Start waits until the server answers
// and stops it when the test ends.
//
//	srv := knot.Start(t, knot.Options{Zone: "example.test", Keys: []string{"web-key"},
//		ACL: "  - id: web\n    key: web-key\n    action: update\n"})
package knot

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// Server is a running knotd.
type Server struct {
	Addr string // "127.0.0.1:PORT", UDP and TCP
	Zone string // without the trailing dot
	Dir  string
	// Secrets holds the base64 hmac-sha256 secret of each key, by name.
	Secrets map[string]string

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// Options configure Start.
type Options struct {
	Zone string
	// Keys are the hmac-sha256 TSIG keys to define (names without a
	// trailing dot).
	Keys []string
	// ACL is the body of the acl: section, verbatim (YAML list items);
	// every ACL id in it is attached to the zone.
	ACL string
}

// Binary returns knotd's path, or an error saying how to install it.
func Binary() (string, error) {
	for _, p := range []string{"knotd", "/usr/sbin/knotd"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("knotd not found: install Debian's knot package")
}

// Start runs knotd and returns once it answers. Without knotd the test is
// skipped, except under CI, where that is a failure.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(bin, t.TempDir(), opt)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address in use") {
			break
		}
	}
	t.Fatalf("knot: %v", lastErr)
	return nil
}

var aclID = regexp.MustCompile(`(?m)^\s*-\s*id:\s*(\S+)`)

func start(bin, dir string, opt Options) (*Server, error) {
	zone := strings.TrimSuffix(strings.ToLower(opt.Zone), ".")
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Zone: zone, Dir: dir, Secrets: map[string]string{}}
	var keys strings.Builder
	for _, k := range opt.Keys {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		s.Secrets[k] = base64.StdEncoding.EncodeToString(b)
		fmt.Fprintf(&keys, "  - id: %s\n    algorithm: hmac-sha256\n    secret: %s\n", k, s.Secrets[k])
	}
	// Zone transfers from loopback are always allowed: tests compare
	// whole zones.
	acl := strings.TrimRight(opt.ACL, "\n") + "\n  - id: testpeer-axfr\n    address: 127.0.0.0/8\n    action: transfer\n"
	var ids []string
	for _, m := range aclID.FindAllStringSubmatch(acl, -1) {
		ids = append(ids, m[1])
	}
	for _, d := range []string{"zones", "db", "run"} {
		// The database directory must exist: without it every update
		// earns SERVFAIL.
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	conf := fmt.Sprintf(`server:
    rundir: %q
    listen: 127.0.0.1@%d
key:
%sacl:
%s
template:
  - id: default
    storage: %q
    file: "%%s.zone"
    zonefile-sync: -1
    journal-content: changes
database:
    storage: %q
zone:
  - domain: %s
    acl: [%s]
log:
  - target: stderr
    any: info
`, filepath.Join(dir, "run"), port, keys.String(), strings.TrimRight(acl, "\n"),
		filepath.Join(dir, "zones"), filepath.Join(dir, "db"), zone, strings.Join(ids, ", "))
	zoneText := fmt.Sprintf("$TTL 60\n@ IN SOA ns1.%[1]s. hostmaster.%[1]s. ( 1 3600 600 86400 60 )\n  IN NS ns1.%[1]s.\nns1 IN A 127.0.0.1\n", zone)
	if err := os.WriteFile(filepath.Join(dir, "knot.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "zones", zone+".zone"), []byte(zoneText), 0o600); err != nil {
		return nil, err
	}
	s.out = &syncBuffer{}
	s.cmd = exec.Command(bin, "-c", filepath.Join(dir, "knot.conf"))
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start knotd: %w", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("knotd exited (%v):\n%s", err, s.out.String())
		default:
		}
		if strings.Contains(s.out.String(), "Address already in use") {
			s.stop()
			return nil, fmt.Errorf("knotd on %s: address in use", s.Addr)
		}
		if s.answers() {
			return s, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("knotd did not answer on %s within 10s:\n%s", s.Addr, s.out.String())
}

// answers asks over TCP: a UDP probe sent before the socket is up would
// cost a retry.
func (s *Server) answers() bool {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(s.Zone), dns.TypeSOA)
	c := &dns.Client{Net: "tcp", Timeout: 200 * time.Millisecond}
	r, _, err := c.Exchange(m, s.Addr)
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Log is knotd's output so far, for failure messages.
func (s *Server) Log() string { return s.out.String() }

func freePort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
