// Package fakeimds is an instance metadata service for tests of faults the
// real emulator cannot produce: a service that comes up late, answers 500,
// expires tokens, only speaks IMDSv1, lets the token request hang, cuts
// answers short or answers slowly. It counts every request so that tests
// can assert round trips. It listens on loopback unless a test inside its
// own network namespace asks for another address.
package fakeimds

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The IMDS protocol details the fake implements.
const (
	TokenPath   = "/latest/api/token"
	headerTTL   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	headerToken = "X-Aws-Ec2-Metadata-Token"
	maxTTL      = 21600
	notFound    = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html>\n<html><head><title>404 - Not Found</title></head><body><h1>404 - Not Found</h1></body></html>\n"
)

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	// WithToken says a token header was sent (valid or not).
	WithToken bool
	// Status is what the fake answered; 0 when the client went away
	// before an answer (a hung or slow request it gave up on).
	Status int
	// Abandoned says the client closed the request before the answer.
	Abandoned bool
}

// Server is a running fake. Its fault switches may be flipped while
// clients use it.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 or
	// http://[fd00:ec2::254]:80.
	URL  string
	addr string

	mu        sync.Mutex
	items     map[string]string
	tokens    map[string]time.Time
	requests  []*Request
	srv       *http.Server
	up        bool
	faults    Faults
	failNext  map[string][]int // "METHOD path" -> statuses to give, in order
	truncNext map[string]int   // path -> how many answers to cut short
	hangNext  int              // token requests still to hang
	upTimer   *time.Timer
}

// Faults are the switchable misbehaviours.
type Faults struct {
	// V1Only makes the token PUT answer TokenStatus (404 when 0) and
	// accepts GETs without a token, like an old or v1-only service.
	V1Only      bool
	TokenStatus int
	// Optional accepts GETs without a token (IMDSv1 and v2 both on, the
	// EC2 default). When false (the default) a GET needs a valid token.
	Optional bool
	// HangToken makes the token PUT never answer: the fake waits until the
	// client gives up, as when the answer is dropped by the hop limit.
	HangToken bool
	// Delay holds every answer back this long (slow responses).
	Delay time.Duration
}

// New starts a fake on a free loopback port with the given metadata
// (paths such as "/latest/meta-data/instance-id" mapped to answers) and
// stops it when the test ends.
func New(t testing.TB, items map[string]string) *Server {
	t.Helper()
	return NewOn(t, "127.0.0.1:0", items)
}

// NewOn is New listening on addr: only inside a network namespace the test
// created may that be a metadata address such as [fd00:ec2::254]:80.
func NewOn(t testing.TB, addr string, items map[string]string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("fake IMDS: listen on %s: %v", addr, err)
	}
	s := &Server{
		addr:      ln.Addr().String(),
		items:     map[string]string{},
		tokens:    map[string]time.Time{},
		failNext:  map[string][]int{},
		truncNext: map[string]int{},
	}
	s.URL = "http://" + s.addr
	for p, v := range items {
		s.items[clean(p)] = v
	}
	s.serve(ln)
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.srv, s.up = srv, true
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Close stops the fake for good.
func (s *Server) Close() {
	s.mu.Lock()
	if s.upTimer != nil {
		s.upTimer.Stop()
	}
	srv := s.srv
	s.srv, s.up = nil, false
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Down stops listening: connections are refused, as before the service
// starts at boot.
func (s *Server) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.up = nil, false
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address.
func (s *Server) Up() error {
	s.mu.Lock()
	up := s.up
	s.mu.Unlock()
	if up {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("fake IMDS: listen again on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

// UpAfter goes down now and comes back after d: a late start.
func (s *Server) UpAfter(d time.Duration) {
	s.Down()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upTimer = time.AfterFunc(d, func() { _ = s.Up() })
}

// SetFaults replaces the fault switches.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Set stores an answer for path; Delete removes it (the fake then answers
// 404, or a listing when path has children).
func (s *Server) Set(path, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[clean(path)] = value
}

// Delete removes the answer for path.
func (s *Server) Delete(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, clean(path))
}

// FailNext makes the next len(statuses) requests for method and path get
// these statuses instead of their answers.
func (s *Server) FailNext(method, path string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + clean(path)
	s.failNext[k] = append(s.failNext[k], statuses...)
}

// TruncateNext cuts the next n answers for path short: the header promises
// the full length, half the body is sent, and the connection is closed.
func (s *Server) TruncateNext(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncNext[clean(path)] += n
}

// HangTokenNext makes the next n token requests hang until the client
// gives up, as a slow service would; later ones are answered.
func (s *Server) HangTokenNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangNext += n
}

// ExpireTokens invalidates every token issued so far, as when they reach
// their TTL; the next request with one gets 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Requests returns every request received so far. A request still being
// answered has Status 0 and Abandoned false.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// Settle waits up to limit for every request to be answered or abandoned
// (a client that gave up returns before the fake notices), and returns the
// requests.
func (s *Server) Settle(limit time.Duration) []Request {
	deadline := time.Now().Add(limit)
	for {
		reqs := s.Requests()
		pending := false
		for _, r := range reqs {
			if r.Status == 0 && !r.Abandoned {
				pending = true
			}
		}
		if !pending || time.Now().After(deadline) {
			return reqs
		}
		time.Sleep(time.Millisecond)
	}
}

// Count returns how many requests for method and path arrived.
func (s *Server) Count(method, path string) int {
	p := clean(path)
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == p {
			n++
		}
	}
	return n
}

// Total returns how many requests arrived.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// record sets what became of a request.
func (s *Server) record(r *Request, status int, abandoned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Status, r.Abandoned = status, abandoned
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	p := clean(r.URL.Path)
	// Recorded on arrival, so that a count taken as soon as a client
	// returns includes requests it gave up on.
	rec := &Request{Method: r.Method, Path: p, WithToken: r.Header.Get(headerToken) != ""}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	f := s.faults
	var forced int
	k := r.Method + " " + p
	if q := s.failNext[k]; len(q) > 0 {
		forced, s.failNext[k] = q[0], q[1:]
	}
	s.mu.Unlock()

	hang := false
	if r.Method == http.MethodPut && p == TokenPath {
		s.mu.Lock()
		hang = f.HangToken || s.hangNext > 0
		if s.hangNext > 0 {
			s.hangNext--
		}
		s.mu.Unlock()
	}
	if f.Delay > 0 || hang {
		if !wait(r.Context(), f.Delay, hang) {
			s.record(rec, 0, true)
			return
		}
	}
	if forced != 0 {
		s.record(rec, forced, false)
		http.Error(w, http.StatusText(forced), forced)
		return
	}
	if r.Method == http.MethodPut && p == TokenPath {
		s.record(rec, s.putToken(w, r, f), false)
		return
	}
	if r.Method != http.MethodGet {
		s.record(rec, http.StatusMethodNotAllowed, false)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if code := s.authorize(r, f); code != http.StatusOK {
		s.record(rec, code, false)
		http.Error(w, http.StatusText(code), code)
		return
	}
	body, ok := s.lookup(p)
	if !ok {
		s.record(rec, http.StatusNotFound, false)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(notFound))
		return
	}
	s.record(rec, http.StatusOK, false)
	if s.takeTruncate(p) {
		truncate(w, body)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write([]byte(body))
}

// wait holds an answer back for d, or until the client leaves when
// forever; it reports whether the client is still there.
func wait(ctx context.Context, d time.Duration, forever bool) bool {
	if forever {
		<-ctx.Done()
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *Server) putToken(w http.ResponseWriter, r *http.Request, f Faults) int {
	if f.V1Only {
		code := f.TokenStatus
		if code == 0 {
			code = http.StatusNotFound
		}
		http.Error(w, http.StatusText(code), code)
		return code
	}
	ttl, err := strconv.Atoi(r.Header.Get(headerTTL))
	if err != nil || ttl < 1 || ttl > maxTTL {
		http.Error(w, "bad TTL", http.StatusBadRequest)
		return http.StatusBadRequest
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(time.Duration(ttl) * time.Second)
	s.mu.Unlock()
	w.Header().Set(headerTTL, strconv.Itoa(ttl))
	_, _ = w.Write([]byte(tok))
	return http.StatusOK
}

func (s *Server) authorize(r *http.Request, f Faults) int {
	tok := r.Header.Get(headerToken)
	if tok == "" {
		if f.V1Only || f.Optional {
			return http.StatusOK
		}
		return http.StatusUnauthorized
	}
	if f.V1Only {
		// A v1-only service ignores the header.
		return http.StatusOK
	}
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok || time.Now().After(exp) {
		return http.StatusUnauthorized
	}
	return http.StatusOK
}

// lookup finds an answer, or builds the listing of a directory from the
// paths below it, as IMDS does for "block-device-mapping/".
func (s *Server) lookup(p string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.items[p]; ok {
		return v, true
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	seen := map[string]bool{}
	for k := range s.items {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		seen[rest] = true
	}
	if len(seen) == 0 {
		return "", false
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "\n"), true
}

func (s *Server) takeTruncate(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.truncNext[p] > 0 {
		s.truncNext[p]--
		return true
	}
	return false
}

// truncate promises the whole body and sends half, then drops the
// connection.
func truncate(w http.ResponseWriter, body string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot cut the answer short on this connection", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body)+1, body[:len(body)/2])
	_ = buf.Flush()
}

// clean gives a path one leading slash and drops a trailing one, so that
// "meta-data/x/" and "/meta-data/x" name the same item.
func clean(p string) string {
	p = "/" + strings.Trim(p, "/")
	return p
}
