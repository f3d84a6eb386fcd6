package awsapi

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
)

// Service names, as in the signing scope and in counters.
const (
	Route53 = "route53"
	EC2     = "ec2"
)

// Options shape a Server. The zero value is a usable peer.
type Options struct {
	// Clock is the peer's time (signature skew, change status,
	// SubmittedAt, rate limits); nil is the real clock.
	Clock clock.Clock
	// Route53Region is the region Route 53 requests must be signed for
	// (us-east-1 unless set: the global endpoint's signing region).
	Route53Region string
	// EC2Region is the region of the EC2 endpoint (default us-east-1).
	EC2Region string
	// ChangeDelay is how long a change stays PENDING before GetChange
	// reports INSYNC.
	ChangeDelay time.Duration
	// Backend, when set, receives the A/AAAA records of every name a
	// successful change batch touched.
	Backend Backend
	// Account is the account ID in ARNs and ownerId (default 111122223333).
	Account string
	// ChangeBatchErrors is the shape of InvalidChangeBatch answers.
	ChangeBatchErrors ChangeBatchErrorShape
}

// ChangeBatchErrorShape is how a refused change batch is answered. Route
// 53 uses both: the Go SDK has a special deserializer for the own-root
// form, while botocore only understands the ErrorResponse form (it shows
// the own-root form as an error with an empty code) and the messages its
// users report come in that form. A provider must handle both.
type ChangeBatchErrorShape int

const (
	// OwnRoot answers <InvalidChangeBatch><Messages><Message>… with one
	// Message per failed change.
	OwnRoot ChangeBatchErrorShape = iota
	// InErrorResponse answers the usual ErrorResponse with Code
	// InvalidChangeBatch and the messages as one "[m1, m2]" Message.
	InErrorResponse
)

// Server is a running Route 53 + EC2 peer on a loopback port. Both
// services share one endpoint: Route 53 paths start with /2013-04-01/,
// EC2 is the Query protocol on /.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL string

	opt   Options
	clock clock.Clock
	srv   *http.Server
	ln    net.Listener
	done  chan struct{}

	mu        sync.Mutex
	keys      map[string]Credentials
	counts    map[string]int
	faults    []*Fault
	limits    map[string]*bucket
	zones     map[string]*zone
	changes   map[string]*change
	instances []Instance
}

// Start serves a peer on 127.0.0.1 until the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", opt)
	if err != nil {
		t.Fatalf("aws api peer: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Listen serves a peer on addr until Close.
func Listen(addr string, opt Options) (*Server, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Route53Region == "" {
		opt.Route53Region = "us-east-1"
	}
	if opt.EC2Region == "" {
		opt.EC2Region = "us-east-1"
	}
	if opt.Account == "" {
		opt.Account = "111122223333"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		opt:     opt,
		clock:   opt.Clock,
		ln:      ln,
		done:    make(chan struct{}),
		keys:    map[string]Credentials{},
		counts:  map[string]int{},
		limits:  map[string]*bucket{},
		zones:   map[string]*zone{},
		changes: map[string]*change{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln); close(s.done) }()
	return s, nil
}

// Close stops serving.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// AddCredentials makes the peer accept requests signed with c.
func (s *Server) AddCredentials(c Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[c.AccessKeyID] = c
}

// Env is the environment that points the SDK's default configuration at
// this peer for both services: use it with t.Setenv.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_ROUTE_53": s.URL,
		"AWS_ENDPOINT_URL_EC2":      s.URL,
	}
}

// Count is how many requests for service's action arrived (whatever the
// answer was), e.g. Count(Route53, "ChangeResourceRecordSets").
func (s *Server) Count(service, action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[service+":"+action]
}

// Counts is every counter, keyed "service:Action".
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ServeHTTP routes a request to its service.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body unreadable or over 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/2013-04-01/") {
		s.serveRoute53(w, r, body)
		return
	}
	s.serveEC2(w, r, body)
}

const maxBody = 1 << 20

// newID is a random upper-case ID with prefix, like Route 53's zone and
// change IDs.
func newID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + strings.TrimRight(base32.StdEncoding.EncodeToString(b), "=")
}
