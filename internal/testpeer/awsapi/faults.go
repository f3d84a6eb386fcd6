package awsapi

import (
	"math"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind int

const (
	// Throttle answers Route 53's Throttling (400, "Rate exceeded") or
	// EC2's RequestLimitExceeded (503).
	Throttle FaultKind = iota
	// Deny answers AccessDenied (Route 53, 403, naming action and
	// resource) or UnauthorizedOperation (EC2, 403, with an encoded
	// authorization message).
	Deny
	// ServerError answers 500 InternalFailure (Route 53) or InternalError
	// (EC2).
	ServerError
	// Malformed answers 200 with a body that is not well-formed XML.
	Malformed
	// PriorRequest answers Route 53's PriorRequestNotComplete (400).
	PriorRequest
	// Delay holds the request for Fault.Delay, then serves it normally.
	Delay
)

// Fault is injected into requests for Service's Action ("" matches any
// action of the service; Service "" matches both services). Times is how
// many requests it hits; 0 means every request until ClearFaults.
type Fault struct {
	Service, Action string
	Kind            FaultKind
	Times           int
	Delay           time.Duration
}

// Inject queues f; faults are tried in the order they were injected and
// the first that matches a request takes it.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := f
	s.faults = append(s.faults, &c)
}

// ClearFaults removes every fault and rate limit.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.limits = map[string]*bucket{}
}

// RateLimit throttles service's requests with a token bucket of burst
// tokens refilled at perSecond, as the real per-account limits do (Route
// 53: 5 requests per second; EC2 counts per action, here per service).
func (s *Server) RateLimit(service string, burst int, perSecond float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[service] = &bucket{cap: float64(burst), tokens: float64(burst), rate: perSecond, last: s.clock.Now()}
}

// fault picks what happens to a signed request: a fault to answer with
// (hit), or a delay before serving it normally.
func (s *Server) fault(service, action string) (kind FaultKind, hit bool, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.limits[service]; b != nil && !b.take(s.clock.Now()) {
		return Throttle, true, 0
	}
	for i, f := range s.faults {
		if (f.Service != "" && f.Service != service) || (f.Action != "" && f.Action != action) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		if f.Kind == Delay {
			return 0, false, f.Delay
		}
		return f.Kind, true, 0
	}
	return 0, false, 0
}

type bucket struct {
	cap, tokens, rate float64
	last              time.Time
}

func (b *bucket) take(now time.Time) bool {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.cap, b.tokens+el*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
