package dnsclient

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// fakeServer is a DNS server that answers whatever its test scripts, right
// or wrong, on UDP and TCP on one loopback port.
type fakeServer struct {
	addr string
	// udp returns the datagrams to send back, in order, for one query.
	udp func(q *dns.Msg) [][]byte
	// tcp returns the bytes to write on the connection (framing included,
	// so that a test can cut them short) before closing it; nil keeps the
	// connection open and silent until the server stops.
	tcp func(q *dns.Msg) []byte

	mu      sync.Mutex
	queries []*dns.Msg
	tcpUsed int
}

// startFake listens on a free port of host ("127.0.0.1" or "::1") until the
// test ends.
func startFake(t *testing.T, host string, s *fakeServer) *fakeServer {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	for attempt := 0; ; attempt++ {
		var err error
		pc, err = net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			testenv.Missing(t, "no UDP on %s (a loopback address every CI machine has): %v", host, err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if attempt == 20 {
			t.Fatalf("no free UDP+TCP port on %s: %v", host, err)
		}
	}
	s.addr = pc.LocalAddr().String()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.serveUDP(t, pc) }()
	go func() { defer wg.Done(); s.serveTCP(t, l, done) }()
	t.Cleanup(func() {
		close(done)
		pc.Close()
		l.Close()
		wg.Wait()
	})
	return s
}

func (s *fakeServer) serveUDP(t *testing.T, pc net.PacketConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q, ok := s.record(t, buf[:n], false)
		if !ok || s.udp == nil {
			continue
		}
		for _, d := range s.udp(q) {
			if _, err := pc.WriteTo(d, from); err != nil {
				t.Errorf("fake server: %v", err)
			}
		}
	}
}

func (s *fakeServer) serveTCP(t *testing.T, l net.Listener, done chan struct{}) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var length [2]byte
			if _, err := io.ReadFull(c, length[:]); err != nil {
				return
			}
			b := make([]byte, binary.BigEndian.Uint16(length[:]))
			if _, err := io.ReadFull(c, b); err != nil {
				t.Errorf("fake server: reading a TCP query: %v", err)
				return
			}
			q, ok := s.record(t, b, true)
			if !ok || s.tcp == nil {
				<-done
				return
			}
			out := s.tcp(q)
			if out == nil {
				<-done
				return
			}
			if _, err := c.Write(out); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
				t.Errorf("fake server: %v", err)
			}
		}()
	}
}

func (s *fakeServer) record(t *testing.T, b []byte, tcp bool) (*dns.Msg, bool) {
	q := new(dns.Msg)
	if err := q.Unpack(b); err != nil {
		t.Errorf("fake server: unreadable query: %v", err)
		return q, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q)
	if tcp {
		s.tcpUsed++
	}
	return q, true
}

func (s *fakeServer) seen() (queries []*dns.Msg, tcp int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*dns.Msg(nil), s.queries...), s.tcpUsed
}
