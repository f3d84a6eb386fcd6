// Package aemm runs AWS's instance metadata emulator (ec2-metadata-mock,
// github.com/aws/amazon-ec2-metadata-mock v1.13.0) for tests: on a free
// loopback port, or on any address the test's network namespace has, with
// a generated config file, and stops it when the test ends.
//
// The emulator keeps its tokens in an unsynchronised map: two token
// requests at the same moment crash it. Use one emulator per test and let
// one client fetch one token. The test fails if the emulator died before
// the test ended.
package aemm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// BinaryEnv names an environment variable that may point at the emulator
// binary; otherwise it is looked up on PATH.
const BinaryEnv = "EC2BOOT_TEST_AEMM"

// Binary is the emulator's executable name.
const Binary = "ec2-metadata-mock"

// Config shapes the emulated instance.
type Config struct {
	// IMDSv2 makes the emulator require tokens (its -I mode).
	IMDSv2 bool
	// Values override metadata answers by the emulator's key names
	// ("instance-id", "local-ipv4", "placement-region", "mac", …).
	Values map[string]string
	// Paths override where answers live; an empty path removes the item
	// (it then answers 404, or a listing when the name is part of another
	// path).
	Paths map[string]string
	// UserData is served at /latest/user-data; nil keeps the emulator's
	// sample. NoUserData makes it answer 404.
	UserData   []byte
	NoUserData bool
	// Identity is the instance identity document; nil keeps the sample.
	Identity map[string]any
	// Role, when set, is the instance profile's role served at
	// iam/security-credentials/<Role> with RoleCredentials.
	Role            string
	RoleCredentials RoleCredentials
	// Host to listen on (default 127.0.0.1) and Port (0 picks a free one).
	Host string
	Port int
}

// RoleCredentials are the instance-role credentials the emulator hands
// out. Expiration must lie in the future: the emulator's own sample
// expired in 2020 and current SDKs refuse already-expired credentials; a
// zero Expiration means an hour after the emulator starts.
type RoleCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	Token           string
	Expiration      time.Time
}

// Server is a running emulator.
type Server struct {
	// URL is its base URL, e.g. http://127.0.0.1:41234.
	URL string

	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	stopped bool
}

// Start runs the emulator and waits until it hands out tokens.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin, err := Find()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	dir := t.TempDir()
	// A taken port makes the emulator exit at once; with a port we picked
	// ourselves that is a race with other tests, so pick again.
	for try := 0; try < 5; try++ {
		c := cfg
		if c.Port == 0 {
			if c.Port, err = freePort(c.Host); err != nil {
				t.Fatalf("emulator: %v", err)
			}
		}
		s, err := start(bin, dir, c, try)
		if err == nil {
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		if !errors.Is(err, errExited) || cfg.Port != 0 {
			t.Fatalf("emulator: %v", err)
		}
	}
	t.Fatalf("emulator: no free port after 5 tries")
	return nil
}

// Find returns the emulator binary.
func Find() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	p, err := exec.LookPath(Binary)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH (install it with `go install github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@v1.13.0`, or set %s)", Binary, BinaryEnv)
	}
	return p, nil
}

var errExited = errors.New("emulator exited")

func start(bin, dir string, cfg Config, try int) (*Server, error) {
	confPath := filepath.Join(dir, fmt.Sprintf("aemm-%d.json", try))
	conf, err := configJSON(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("aemm-%d.log", try))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-c", confPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Without -c it would read $HOME/aemm-config.json; keep HOME private so
	// that a stray file can never leak into a test.
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{
		URL:     "http://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		cmd:     cmd,
		done:    make(chan struct{}),
		logPath: logPath,
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(10 * time.Second); err != nil {
		s.kill()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return s, nil
}

// waitReady polls a token request until it succeeds. One at a time: the
// emulator cannot take two at once.
func (s *Server) waitReady(limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("%w before answering (code %d)", errExited, s.cmd.ProcessState.ExitCode())
		default:
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, s.URL+"/latest/api/token", nil)
		req.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "60")
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("emulator at %s not ready after %s", s.URL, limit)
}

// Alive reports whether the emulator is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop ends the emulator before the test does (to test a service that
// went away); the cleanup then does nothing.
func (s *Server) Stop() {
	if !s.stopped {
		s.stopped = true
		s.kill()
	}
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

func (s *Server) stop(t testing.TB) {
	if s.stopped {
		return
	}
	s.stopped = true
	if !s.Alive() {
		t.Errorf("the metadata emulator at %s died during the test (a client sent parallel token or listing requests?)\n%s", s.URL, s.logTail())
		return
	}
	s.kill()
}

// Log returns what the emulator printed so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) logTail() string {
	l := s.Log()
	if len(l) > 4000 {
		l = "…" + l[len(l)-4000:]
	}
	return l
}

func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// configJSON renders the emulator's config file (its viper keys).
// JSON is the emulator's configuration file for cfg, for a test that runs
// the emulator itself (inside a network namespace, say) rather than
// through Start. Host and Port are used as given.
func (cfg Config) JSON() ([]byte, error) { return configJSON(cfg) }

func configJSON(cfg Config) ([]byte, error) {
	meta := map[string]any{}
	values := map[string]any{}
	for k, v := range cfg.Values {
		values[k] = v
	}
	paths := map[string]string{}
	for k, v := range cfg.Paths {
		paths[k] = v
	}
	if cfg.Role != "" {
		addRole(values, paths, cfg.Role, cfg.RoleCredentials)
	}
	if len(values) > 0 {
		meta["values"] = values
	}
	if len(paths) > 0 {
		meta["paths"] = paths
	}
	doc := map[string]any{
		"imdsv2":   cfg.IMDSv2,
		"server":   map[string]string{"hostname": cfg.Host, "port": strconv.Itoa(cfg.Port)},
		"metadata": meta,
	}
	if cfg.Identity != nil {
		doc["dynamic"] = map[string]any{"values": map[string]any{"instance-identity-document": cfg.Identity}}
	}
	ud := map[string]any{}
	if cfg.UserData != nil {
		// The emulator takes user-data base64-encoded and serves the bytes.
		ud["values"] = map[string]string{"userdata": base64.StdEncoding.EncodeToString(cfg.UserData)}
	}
	if cfg.NoUserData {
		ud["paths"] = map[string]string{"userdata": ""}
	}
	if len(ud) > 0 {
		doc["userdata"] = ud
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("emulator config: %w", err)
	}
	return buf.Bytes(), nil
}

// addRole serves the role's name at iam/security-credentials and its
// credentials one level below, in the emulator's keys.
func addRole(values map[string]any, paths map[string]string, role string, c RoleCredentials) {
	exp := c.Expiration
	if exp.IsZero() {
		exp = time.Now().Add(time.Hour)
	}
	values["iam-security-credentials-role"] = role
	values["iam-security-credentials"] = map[string]string{
		"Code":            "Success",
		"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
		"Type":            "AWS-HMAC",
		"AccessKeyId":     c.AccessKeyID,
		"SecretAccessKey": c.SecretAccessKey,
		"Token":           c.Token,
		"Expiration":      exp.UTC().Format(time.RFC3339),
	}
	paths["iam-security-credentials"] = "/latest/meta-data/iam/security-credentials/" + role
}
