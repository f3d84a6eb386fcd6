// Package bind starts Debian's BIND 9 (named -g) for tests: one primary zone
// on a free loopback port, writable with RFC 2136 dynamic updates signed by
// a TSIG key. Start (or StartWith, for a fixed address) waits until the
// server answers and stops it when the test ends. *Server implements the
// dyndns test server's Backend, so accepted updates land in BIND.
//
//	srv := bind.Start(t, "example.test")
//	srv.Update(ctx, "web.example.test", []netip.Addr{addr}) // TSIG-signed
//	addrs, _ := srv.Lookup(ctx, "web.example.test")
//	srv.NSUpdate(ctx, "update add x.example.test. 60 A 192.0.2.1\n") // via nsupdate -k KeyFile
package bind

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/daemon"
)

// KeyName is the TSIG key's name; its algorithm is HMAC-SHA256.
const KeyName = "ec2boot-test-key."

// Server is a running named.
type Server struct {
	Addr string // "127.0.0.1:PORT", UDP and TCP
	Zone string // without the trailing dot
	Dir  string // named's working directory (config, zone, journal)
	// KeyFile holds the TSIG key in named's syntax, for `nsupdate -k`.
	KeyFile string
	// KeySecret is the key's base64 secret (for miekg/dns TsigSecret).
	KeySecret string
	// Secrets holds the base64 secrets of Options.Keys, by key name
	// (without the trailing dot); each key's statement is also in
	// Dir/NAME.key.
	Secrets map[string]string

	proc *daemon.Process
}

// Binary returns named's path, or an error saying how to install it.
func Binary() (string, error) {
	for _, p := range []string{"named", "/usr/sbin/named"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("named not found: install Debian's bind9 package")
}

// Options configure StartWith.
type Options struct {
	// Zone is the primary zone (required).
	Zone string
	// Listen is the "ip:port" to serve on; default a free port on
	// 127.0.0.1. The zone's ns1 record points at this ip.
	Listen string
	// Keys are further hmac-sha256 TSIG keys to define (names without a
	// trailing dot), for UpdatePolicy's grants.
	Keys []string
	// UpdatePolicy is the zone's update-policy body, verbatim; default
	// "grant ec2boot-test-key zonesub ANY;".
	UpdatePolicy string
}

// Start runs named for zone on a free loopback port and returns once it
// answers. Without named the test is skipped, except under CI (CI set),
// where that is a failure.
func Start(t testing.TB, zone string) *Server {
	t.Helper()
	return StartWith(t, Options{Zone: zone})
}

// StartWith is Start with options (a fixed address, e.g. inside a network
// namespace the test runs in).
func StartWith(t testing.TB, opt Options) *Server {
	t.Helper()
	named, err := Binary()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	// A fixed address taken by someone else stays taken.
	attempts := 5
	if opt.Listen != "" {
		attempts = 1
	}
	s, err := daemon.Retry(attempts, func() (*Server, error) { return start(named, t.TempDir(), opt) })
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

func start(named, dir string, opt Options) (*Server, error) {
	zone := strings.TrimSuffix(strings.ToLower(opt.Zone), ".")
	addr := opt.Listen
	if addr == "" {
		port, err := daemon.FreePort()
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	ip, portText, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(ip).To4() == nil {
		return nil, fmt.Errorf("listen address %q: want IPv4:port", addr)
	}
	port, _ := strconv.Atoi(portText)
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := &Server{Addr: addr, Zone: zone, Dir: dir, Secrets: map[string]string{},
		KeyFile: filepath.Join(dir, "ddns.key"), KeySecret: base64.StdEncoding.EncodeToString(secret)}
	keyStmt := func(name, secret string) string {
		return fmt.Sprintf("key %q {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", name, secret)
	}
	policy := opt.UpdatePolicy
	if policy == "" {
		policy = fmt.Sprintf("grant %s zonesub ANY;", strings.TrimSuffix(KeyName, "."))
	}
	files := map[string]string{
		"ddns.key": keyStmt(strings.TrimSuffix(KeyName, "."), s.KeySecret),
		"zone.db":  fmt.Sprintf("$TTL 60\n@ IN SOA ns1.%[1]s. hostmaster.%[1]s. ( 1 3600 600 86400 60 )\n  IN NS ns1.%[1]s.\nns1 IN A %[2]s\n", zone, ip),
		"named.conf": fmt.Sprintf(`include %q;
options {
	directory %q;
	pid-file none;
	session-keyfile none;
	listen-on port %d { %s; };
	listen-on-v6 { none; };
	recursion no;
	allow-query { any; };
	dnssec-validation no;
	notify no;
};
controls { };
zone %q {
	type primary;
	file "zone.db";
	update-policy { %s };
};
`, filepath.Join(dir, "ddns.key"), dir, port, ip, zone, policy),
	}
	for _, k := range opt.Keys {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		s.Secrets[k] = base64.StdEncoding.EncodeToString(b)
		files[k+".key"] = keyStmt(k, s.Secrets[k])
		files["named.conf"] = fmt.Sprintf("include %q;\n", filepath.Join(dir, k+".key")) + files["named.conf"]
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(named, "-g", "-n", "1", "-c", filepath.Join(dir, "named.conf"))
	cmd.Dir = dir
	if s.proc, err = daemon.StartDNS(cmd, s.Addr, s.Zone); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) stop() { s.proc.Stop(5 * time.Second) }

// Log is named's output so far, for failure messages.
func (s *Server) Log() string { return s.proc.Log() }

// Update makes name carry exactly addrs (both families; an empty list
// deletes it) with one TSIG-signed RFC 2136 update.
func (s *Server) Update(ctx context.Context, name string, addrs []netip.Addr) error {
	fqdn := dns.Fqdn(strings.ToLower(name))
	m := new(dns.Msg)
	m.SetUpdate(dns.Fqdn(s.Zone))
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: fqdn, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	m.RemoveRRset([]dns.RR{&dns.A{Hdr: hdr(dns.TypeA)}, &dns.AAAA{Hdr: hdr(dns.TypeAAAA)}})
	var add []dns.RR
	for _, a := range addrs {
		if a.Is4() {
			add = append(add, &dns.A{Hdr: hdr(dns.TypeA), A: a.AsSlice()})
		} else {
			add = append(add, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: a.AsSlice()})
		}
	}
	m.Insert(add)
	m.SetTsig(KeyName, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{KeyName: s.KeySecret}, Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	if err != nil {
		return fmt.Errorf("bind update of %s: %w", name, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("bind update of %s: %s", name, dns.RcodeToString[r.Rcode])
	}
	return nil
}

// Serial is the zone's SOA serial: a test that must prove nothing was
// updated compares it before and after.
func (s *Server) Serial(ctx context.Context) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(s.Zone), dns.TypeSOA)
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	if err != nil {
		return 0, fmt.Errorf("SOA of %s: %w", s.Zone, err)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("SOA of %s: no SOA in the answer (%s)", s.Zone, dns.RcodeToString[r.Rcode])
}

// Lookup returns the A and AAAA addresses of name (IPv4 first).
func (s *Server) Lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(strings.ToLower(name)), qt)
		m.RecursionDesired = false
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.ExchangeContext(ctx, m, s.Addr)
		if err != nil {
			return nil, fmt.Errorf("bind lookup of %s: %w", name, err)
		}
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			return nil, fmt.Errorf("bind lookup of %s: %s", name, dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			switch v := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(v.A.To4())
				out = append(out, a)
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(v.AAAA)
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// NSUpdate runs Debian's nsupdate with the TSIG key file against this
// server; script holds the update commands ("update add ...") without the
// server, zone and send lines, which are added.
func (s *Server) NSUpdate(ctx context.Context, script string) error {
	bin, err := exec.LookPath("nsupdate")
	if err != nil {
		return errors.New("nsupdate not found: install Debian's bind9-dnsutils package")
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	in := fmt.Sprintf("server %s %s\nzone %s\n%s\nsend\n", host, port, s.Zone, strings.TrimRight(script, "\n"))
	cmd := exec.CommandContext(ctx, bin, "-k", s.KeyFile)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("nsupdate: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
