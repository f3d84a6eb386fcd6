// Package authdns is a small in-process authoritative DNS server for one
// zone: it answers A and AAAA (plus the zone's SOA and NS) from a table the
// dyndns2 test server fills. It serves the demo and fast tests; tests that
// need a real DNS server use the bind package.
package authdns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Server answers for one zone on UDP and TCP.
type Server struct {
	zone string // fqdn, lower case
	ttl  uint32

	mu      sync.Mutex
	records map[string][]netip.Addr // fqdn -> addresses (both families)
	serial  uint32
	queries int

	udp, tcp *dns.Server
	addr     string
}

// New returns a server for zone; it serves nothing until Start.
func New(zone string) *Server {
	return &Server{zone: dns.Fqdn(strings.ToLower(zone)), ttl: 60, records: map[string][]netip.Addr{}, serial: 1}
}

// Start listens on addr ("127.0.0.1:0" picks a port) for UDP and TCP on the
// same port and serves until Close.
func (s *Server) Start(addr string) error {
	for attempt := 0; attempt < 20; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return fmt.Errorf("authdns: listen udp %s: %w", addr, err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			if strings.HasSuffix(addr, ":0") {
				continue // the TCP side of a random port was taken: pick another
			}
			return fmt.Errorf("authdns: listen tcp %s: %w", addr, err)
		}
		s.addr = pc.LocalAddr().String()
		h := dns.HandlerFunc(s.serve)
		s.udp = &dns.Server{PacketConn: pc, Handler: h}
		s.tcp = &dns.Server{Listener: l, Handler: h}
		started := make(chan struct{}, 2)
		s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
		s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { _ = s.udp.ActivateAndServe() }()
		go func() { _ = s.tcp.ActivateAndServe() }()
		<-started
		<-started
		return nil
	}
	return fmt.Errorf("authdns: no free port pair on %s", addr)
}

// Addr is the "host:port" the server listens on.
func (s *Server) Addr() string { return s.addr }

// Zone is the zone's name without the trailing dot.
func (s *Server) Zone() string { return strings.TrimSuffix(s.zone, ".") }

// Close stops serving.
func (s *Server) Close() error {
	var errs []string
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err.Error())
		}
		cancel()
	}
	if len(errs) > 0 {
		return fmt.Errorf("authdns: close: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Queries is how many queries were answered.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// Update makes name carry exactly addrs (an empty list deletes it). It
// implements the dyndns test server's backend.
func (s *Server) Update(_ context.Context, name string, addrs []netip.Addr) error {
	fqdn := dns.Fqdn(strings.ToLower(name))
	if !dns.IsSubDomain(s.zone, fqdn) {
		return fmt.Errorf("authdns: %s is not in zone %s", name, s.zone)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(addrs) == 0 {
		delete(s.records, fqdn)
	} else {
		s.records[fqdn] = append([]netip.Addr(nil), addrs...)
	}
	s.serial++
	return nil
}

// Lookup returns what name carries now.
func (s *Server) Lookup(_ context.Context, name string) ([]netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Addr(nil), s.records[dns.Fqdn(strings.ToLower(name))]...), nil
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	s.mu.Lock()
	s.queries++
	defer func() {
		s.mu.Unlock()
		_ = w.WriteMsg(m)
	}()
	if len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(s.zone, name) {
		m.Authoritative = false
		m.SetRcode(req, dns.RcodeRefused)
		return
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: s.ttl}
	}
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: s.zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: s.ttl},
		Ns: "ns1." + s.zone, Mbox: "hostmaster." + s.zone, Serial: s.serial, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
	nsHost := "ns1." + s.zone
	addrs, exists := s.records[name]
	switch {
	case name == s.zone && q.Qtype == dns.TypeSOA:
		m.Answer = append(m.Answer, soa)
	case name == s.zone && q.Qtype == dns.TypeNS:
		m.Answer = append(m.Answer, &dns.NS{Hdr: hdr(dns.TypeNS), Ns: nsHost})
	case name == nsHost && q.Qtype == dns.TypeA:
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: net.IPv4(127, 0, 0, 1)})
	case name == s.zone || name == nsHost:
		m.Ns = append(m.Ns, soa)
	case !exists:
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, soa)
	default:
		for _, a := range addrs {
			switch {
			case a.Is4() && q.Qtype == dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: a.AsSlice()})
			case a.Is6() && q.Qtype == dns.TypeAAAA:
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: a.AsSlice()})
			}
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, soa)
		}
	}
}
