// Package latency puts a loopback proxy in front of a peer (the metadata
// service, the dyndns2 provider, the DNS server) that holds every request
// back by a fixed delay, as a network round trip would, and records when
// each simulated round trip happened so that the round trips on a run's
// critical path can be counted afterwards.
//
// A TCP connection's first request is held back twice as long: the
// handshake is a round trip of its own that loopback would otherwise hide.
// Answers pass through at once, so one request costs one delay.
package latency

import (
	"errors"
	"io"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Trip is one simulated round trip.
type Trip struct {
	Peer       string
	Start, End time.Time
}

// Timeline records the round trips of every proxy that shares it.
type Timeline struct {
	mu    sync.Mutex
	trips []Trip
	// late sums how much longer than asked the proxies' sleeps took
	// (timer slack and scheduling): the proxy's own cost, not the client's.
	late  time.Duration
	holds int
}

// Late returns the mean oversleep of one hold since the last Reset.
func (t *Timeline) Late() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.holds == 0 {
		return 0
	}
	return t.late / time.Duration(t.holds)
}

func (t *Timeline) add(peer string, start time.Time, d time.Duration) {
	t.mu.Lock()
	t.trips = append(t.trips, Trip{Peer: peer, Start: start, End: start.Add(d)})
	t.mu.Unlock()
}

// Reset forgets every trip (between runs).
func (t *Timeline) Reset() {
	t.mu.Lock()
	t.trips, t.late, t.holds = nil, 0, 0
	t.mu.Unlock()
}

// Trips returns the recorded trips in start order.
func (t *Timeline) Trips() []Trip {
	t.mu.Lock()
	out := append([]Trip(nil), t.trips...)
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// CriticalPath is the longest chain of round trips each of which started
// after the one before it had ended: the trips a run had to wait for one
// after another. Trips that overlap (sent in parallel) count once. The
// greedy earliest-end choice finds the longest such chain.
func CriticalPath(trips []Trip) int {
	s := append([]Trip(nil), trips...)
	sort.Slice(s, func(i, j int) bool { return s[i].End.Before(s[j].End) })
	n := 0
	var last time.Time
	for _, tr := range s {
		if n == 0 || !tr.Start.Before(last) {
			n++
			last = tr.End
		}
	}
	return n
}

// Proxy is a running proxy. Its delay can be changed between runs.
type Proxy struct {
	Addr  string // where clients connect, "127.0.0.1:port"
	peer  string
	up    string
	delay atomic.Int64
	reqs  atomic.Int64
	tl    *Timeline
	close func() error
	wg    sync.WaitGroup
}

// Requests is how many requests went through: HTTP requests (a chunk that
// starts with a method) or datagrams.
func (p *Proxy) Requests() int64 { return p.reqs.Load() }

// ResetRequests sets the request count back to zero.
func (p *Proxy) ResetRequests() { p.reqs.Store(0) }

func (p *Proxy) countHTTP(b []byte) {
	for _, m := range []string{"GET ", "PUT ", "POST ", "HEAD "} {
		if len(b) >= len(m) && string(b[:len(m)]) == m {
			p.reqs.Add(1)
			return
		}
	}
}

// SetDelay sets the per-request delay.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *Proxy) hold(start time.Time, trips int) {
	d := time.Duration(p.delay.Load())
	if d <= 0 {
		return
	}
	for i := 0; i < trips; i++ {
		p.tl.add(p.peer, start.Add(time.Duration(i)*d), d)
	}
	until := start.Add(time.Duration(trips) * d)
	time.Sleep(time.Until(until))
	late := time.Since(until)
	p.tl.mu.Lock()
	p.tl.late += late
	p.tl.holds++
	p.tl.mu.Unlock()
}

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() error {
	err := p.close()
	p.wg.Wait()
	return err
}

// TCP starts a proxy on a free loopback port in front of upstream.
func TCP(peer, upstream string, tl *Timeline) (*Proxy, error) {
	return TCPOn(peer, "127.0.0.1:0", upstream, tl)
}

// TCPOn is TCP listening on listen.
func TCPOn(peer, listen, upstream string, tl *Timeline) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), peer: peer, up: upstream, tl: tl}
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	closed := false
	p.close = func() error {
		err := ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		return err
	}
	track := func(cs ...net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			if closed {
				c.Close()
				continue
			}
			conns[c] = true
		}
		return !closed
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serveTCP(c, track)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	return p, nil
}

func (p *Proxy) serveTCP(c net.Conn, track func(...net.Conn) bool) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if n == 0 {
		return
	}
	first := time.Now()
	u, derr := net.DialTimeout("tcp", p.up, 5*time.Second)
	if derr != nil {
		return
	}
	defer u.Close()
	if !track(u) {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(c, u)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		close(done)
	}()
	p.countHTTP(buf[:n])
	p.hold(first, 2) // handshake + first request
	for {
		if _, werr := u.Write(buf[:n]); werr != nil {
			break
		}
		if err != nil {
			break
		}
		n, err = c.Read(buf)
		if n == 0 {
			break
		}
		p.countHTTP(buf[:n])
		p.hold(time.Now(), 1)
	}
	if tc, ok := u.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	<-done
}

// udpIdle is how long an upstream socket waits for another answer. Short:
// every open socket is a descriptor that scans of /proc (the client's own,
// for instance) have to read.
const udpIdle = 250 * time.Millisecond

// UDP starts a proxy for datagrams (DNS) on a free loopback port.
func UDP(peer, upstream string, tl *Timeline) (*Proxy, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	upAddr, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		pc.Close()
		return nil, err
	}
	p := &Proxy{Addr: pc.LocalAddr().String(), peer: peer, up: upstream, tl: tl}
	var mu sync.Mutex
	clients := map[string]*net.UDPConn{}
	p.close = func() error {
		err := pc.Close()
		mu.Lock()
		for _, u := range clients {
			u.Close()
		}
		mu.Unlock()
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			start := time.Now()
			p.reqs.Add(1)
			msg := append([]byte(nil), buf[:n]...)
			mu.Lock()
			u := clients[from.String()]
			if u == nil {
				u, err = net.DialUDP("udp", nil, upAddr)
				if err != nil {
					mu.Unlock()
					continue
				}
				clients[from.String()] = u
				p.wg.Add(1)
				go func(u *net.UDPConn, from net.Addr) {
					defer p.wg.Done()
					// DNS clients use a socket per exchange or two: the
					// upstream socket goes once it has been idle a while.
					defer func() {
						mu.Lock()
						if clients[from.String()] == u {
							delete(clients, from.String())
						}
						mu.Unlock()
						u.Close()
					}()
					b := make([]byte, 64<<10)
					for {
						_ = u.SetReadDeadline(time.Now().Add(udpIdle))
						n, err := u.Read(b)
						if err != nil {
							return
						}
						_, _ = pc.WriteTo(b[:n], from)
					}
				}(u, from)
			}
			mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.hold(start, 1)
				_, _ = u.Write(msg)
			}()
		}
	}()
	return p, nil
}
