// Package knot starts Debian's Knot DNS (knotd) for tests: one primary
// zone on a free loopback port, writable with RFC 2136 dynamic updates
// that an ACL grants to TSIG keys. Start waits until the server answers
// and stops it when the test ends.
//
//	srv := knot.Start(t, knot.Options{Zone: "example.test", Keys: []string{"web-key"},
//		ACL: "  - id: web\n    key: web-key\n    action: update\n"})
package knot

import (
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
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/daemon"
)

// Server is a running knotd.
type Server struct {
	Addr string // "127.0.0.1:PORT", UDP and TCP
	Zone string // without the trailing dot
	Dir  string
	// Secrets holds the base64 hmac-sha256 secret of each key, by name.
	Secrets map[string]string

	proc *daemon.Process
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
	s, err := daemon.Retry(5, func() (*Server, error) { return start(bin, t.TempDir(), opt) })
	if err != nil {
		t.Fatalf("knot: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

var aclID = regexp.MustCompile(`(?m)^\s*-\s*id:\s*(\S+)`)

func start(bin, dir string, opt Options) (*Server, error) {
	zone := strings.TrimSuffix(strings.ToLower(opt.Zone), ".")
	port, err := daemon.FreePort()
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
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "knot.conf"))
	cmd.Dir = dir
	if s.proc, err = daemon.StartDNS(cmd, s.Addr, s.Zone); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) stop() { s.proc.Stop(5 * time.Second) }

// Log is knotd's output so far, for failure messages.
func (s *Server) Log() string { return s.proc.Log() }
