// Package dyndns is ec2boot's dyndns2 test server: it records every request,
// behaves like Dyn by default (Basic auth, up to 20 names, myip=v4,v6,
// good/nochg, the other family deleted when only one is sent) and feeds
// what it accepts into a DNS backend so that lookups see it. Tests script
// any other answer: each return code, HTTP errors, a hang, a slow reply or
// a reset connection.
package dyndns

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Backend is the DNS the server feeds: authdns.Server or bind.Server.
type Backend interface {
	Lookup(ctx context.Context, name string) ([]netip.Addr, error)
	Update(ctx context.Context, name string, addrs []netip.Addr) error
}

// Request is one recorded request.
type Request struct {
	Method    string
	Path      string
	RawQuery  string
	Query     url.Values
	Hostnames []string
	MyIP      string
	HasMyIP   bool
	// AuthHeader is whether the request carried Authorization at all (the
	// protocol sends it pre-emptively); User and Password are decoded.
	AuthHeader bool
	User       string
	Password   string
	UserAgent  string
	Host       string
	Proto      string
	Header     http.Header
	// Answer is the body the server sent (empty for scripted faults).
	Answer string
	Status int
}

// Reply scripts the answer to one request instead of the normal behaviour.
type Reply struct {
	Status int    // HTTP status; 0 means 200
	Body   string // the exact body
	// Hang accepts the request and never answers until the client gives up
	// or the server closes.
	Hang bool
	// Delay waits before answering normally (or with Body).
	Delay time.Duration
	// Reset closes the connection without an answer.
	Reset bool
	// Normal, with Delay, answers as the server normally would.
	Normal bool
	// Update applies the request normally (DNS changes) but answers Body:
	// for mixed replies whose good lines must show up in DNS.
	Update bool
}

// Server is the test server. Configure the exported fields before Start.
type Server struct {
	// Users maps username to password.
	Users map[string]string
	// Hosts, when set, lists the names each user owns; others get nohost.
	Hosts map[string][]string
	// Backend receives accepted updates; nil keeps them in memory.
	Backend Backend
	// Log, when set, gets one line per request (password never shown).
	Log io.Writer

	mu       sync.Mutex
	requests []Request
	script   []Reply
	memory   map[string][]netip.Addr

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Start serves on addr ("127.0.0.1:0" picks a port) until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dyndns test server: %w", err)
	}
	s.ln = ln
	s.done = make(chan struct{})
	if s.memory == nil {
		s.memory = map[string][]netip.Addr{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/nic/update", s.handle)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the server's base URL ("http://127.0.0.1:PORT").
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Addr is "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, releasing hanging requests.
func (s *Server) Close() error {
	close(s.done)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Script queues answers for the next requests, in order; once the queue is
// empty the server behaves normally again.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Requests returns a copy of every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count is how many requests were received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: q,
		UserAgent: r.UserAgent(), Host: r.Host, Proto: r.Proto, Header: r.Header.Clone()}
	if h := q.Get("hostname"); h != "" {
		rec.Hostnames = strings.Split(h, ",")
	}
	rec.MyIP, rec.HasMyIP = q.Get("myip"), q.Has("myip")
	rec.AuthHeader = r.Header.Get("Authorization") != ""
	rec.User, rec.Password, _ = r.BasicAuth()

	s.mu.Lock()
	var reply *Reply
	if len(s.script) > 0 {
		reply = &s.script[0]
		s.script = s.script[1:]
	}
	idx := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	status, body := http.StatusOK, ""
	switch {
	case reply != nil && reply.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				c.Close()
			}
		}
		return
	case reply != nil && reply.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	if reply != nil && reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if reply != nil && !reply.Normal {
		if reply.Update {
			s.applyScripted(r.Context(), rec, reply.Body)
		}
		status, body = reply.Status, reply.Body
		if status == 0 {
			status = http.StatusOK
		}
	} else {
		status, body = s.normal(r.Context(), rec)
	}
	s.mu.Lock()
	s.requests[idx].Answer, s.requests[idx].Status = body, status
	s.mu.Unlock()
	if s.Log != nil {
		fmt.Fprintf(s.Log, "%s %s?%s user=%q agent=%q -> %d %q\n", rec.Method, rec.Path, rec.RawQuery, rec.User, rec.UserAgent, status, strings.TrimSpace(body))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="dyndns"`)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// normal answers the way Dyn does.
func (s *Server) normal(ctx context.Context, rec Request) (int, string) {
	if rec.Method != http.MethodGet {
		return http.StatusOK, "badagent"
	}
	pw, ok := s.Users[rec.User]
	if rec.User == "" || !ok || pw != rec.Password {
		return http.StatusUnauthorized, "badauth"
	}
	if len(rec.Hostnames) == 0 {
		return http.StatusOK, "notfqdn"
	}
	if len(rec.Hostnames) > 20 {
		return http.StatusOK, "numhost"
	}
	// An empty or missing myip means "use the address the request came
	// from" at a real provider; a client that does this for an internal
	// name registers the wrong address, so the server refuses to guess.
	addrs, err := parseMyIP(rec.MyIP)
	if err != nil || len(addrs) == 0 {
		return http.StatusOK, "dnserr"
	}
	lines := make([]string, len(rec.Hostnames))
	for i, h := range rec.Hostnames {
		lines[i] = s.updateOne(ctx, rec.User, strings.ToLower(h), addrs)
	}
	return http.StatusOK, strings.Join(lines, "\n") + "\n"
}

// applyScripted performs the updates a scripted body claims: the names
// whose line is good or nochg (a single such line covers every name).
func (s *Server) applyScripted(ctx context.Context, rec Request, body string) {
	addrs, err := parseMyIP(rec.MyIP)
	if err != nil || len(addrs) == 0 {
		return
	}
	var lines []string
	for _, l := range strings.Split(body, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	for i, h := range rec.Hostnames {
		line := ""
		switch {
		case len(lines) == 1:
			line = lines[0]
		case i < len(lines):
			line = lines[i]
		}
		if strings.HasPrefix(line, "good") || strings.HasPrefix(line, "nochg") {
			_ = s.update(ctx, strings.ToLower(h), addrs)
		}
	}
}

func (s *Server) updateOne(ctx context.Context, user, host string, addrs []netip.Addr) string {
	if !strings.Contains(host, ".") {
		return "notfqdn"
	}
	if owned, ok := s.Hosts[user]; s.Hosts != nil && (!ok || !slices.Contains(owned, host)) {
		return "nohost"
	}
	cur, err := s.lookup(ctx, host)
	if err != nil {
		return "dnserr"
	}
	text := joinAddrs(addrs)
	if sameSet(cur, addrs) {
		return "nochg " + text
	}
	// Dyn replaces the whole set: sending only one family deletes the other.
	if err := s.update(ctx, host, addrs); err != nil {
		return "dnserr"
	}
	return "good " + text
}

func (s *Server) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if s.Backend != nil {
		return s.Backend.Lookup(ctx, host)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.memory[host]), nil
}

func (s *Server) update(ctx context.Context, host string, addrs []netip.Addr) error {
	if s.Backend != nil {
		return s.Backend.Update(ctx, host, addrs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memory[host] = slices.Clone(addrs)
	return nil
}

func parseMyIP(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

func joinAddrs(a []netip.Addr) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func sameSet(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
