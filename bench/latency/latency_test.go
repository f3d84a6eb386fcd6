package latency

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCriticalPath(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(start, end int) Trip {
		return Trip{Start: t0.Add(time.Duration(start) * time.Millisecond), End: t0.Add(time.Duration(end) * time.Millisecond)}
	}
	tests := []struct {
		name  string
		trips []Trip
		want  int
	}{
		{"none", nil, 0},
		{"one", []Trip{at(0, 5)}, 1},
		{"serial", []Trip{at(0, 5), at(6, 11), at(12, 17)}, 3},
		{"parallel", []Trip{at(0, 5), at(0, 5), at(1, 6)}, 1},
		{"waves", []Trip{at(0, 5), at(6, 11), at(6, 11), at(6, 11), at(12, 17)}, 3},
		{"back to back", []Trip{at(0, 5), at(5, 10)}, 2},
		{"overlap is not a chain", []Trip{at(0, 5), at(4, 9)}, 1},
		{"unordered input", []Trip{at(12, 17), at(0, 5), at(6, 11)}, 3},
	}
	for _, tt := range tests {
		if got := CriticalPath(tt.trips); got != tt.want {
			t.Errorf("%s: CriticalPath = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// The TCP proxy holds a new connection's first request for two delays
// (handshake + request) and each later one for one, and counts requests.
func TestTCPDelaysAndCounts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	var tl Timeline
	p, err := TCP("test", srv.Listener.Addr().String(), &tl)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const d = 20 * time.Millisecond
	p.SetDelay(d)
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, min := range []time.Duration{2 * d, d} {
		start := time.Now()
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if took := time.Since(start); took < min {
			t.Errorf("request %d took %s, want at least %s", i, took, min)
		}
	}
	if n := p.Requests(); n != 2 {
		t.Errorf("Requests = %d, want 2", n)
	}
	if n := CriticalPath(tl.Trips()); n != 3 {
		t.Errorf("critical path = %d trips, want 3 (handshake, request, request)", n)
	}
}

// The UDP proxy forwards a datagram and its answer, after the delay.
func TestUDPForwards(t *testing.T) {
	up, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		b := make([]byte, 512)
		for {
			n, from, err := up.ReadFrom(b)
			if err != nil {
				return
			}
			_, _ = up.WriteTo(append([]byte("re:"), b[:n]...), from)
		}
	}()
	var tl Timeline
	p, err := UDP("dns", up.LocalAddr().String(), &tl)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const d = 15 * time.Millisecond
	p.SetDelay(d)
	c, err := net.Dial("udp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("q1")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 512)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b[:n]); got != "re:q1" {
		t.Errorf("answer %q, want %q", got, "re:q1")
	}
	if took := time.Since(start); took < d {
		t.Errorf("took %s, want at least %s", took, d)
	}
	if p.Requests() != 1 {
		t.Errorf("Requests = %d, want 1", p.Requests())
	}
}
