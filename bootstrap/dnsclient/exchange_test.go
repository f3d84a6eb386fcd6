package dnsclient

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// TestExchangeFaults runs Exchange against a server that misbehaves in
// the ways a network and broken servers do.
func TestExchangeFaults(t *testing.T) {
	a1 := func(q *dns.Msg) *dns.Msg {
		return replyTo(q, rrA("db-1.example.test.", "192.0.2.1"))
	}
	udp := func(ms ...func(q *dns.Msg) *dns.Msg) func(*dns.Msg) [][]byte {
		return func(q *dns.Msg) [][]byte {
			var out [][]byte
			for _, m := range ms {
				out = append(out, pack(t, m(q)))
			}
			return out
		}
	}
	truncated := udp(func(q *dns.Msg) *dns.Msg {
		m := replyTo(q) // a truncated answer that held nothing
		m.Truncated = true
		return m
	})
	change := func(edit func(m *dns.Msg)) func(q *dns.Msg) *dns.Msg {
		return func(q *dns.Msg) *dns.Msg {
			m := replyTo(q, rrA("db-1.example.test.", "192.0.2.66"))
			edit(m)
			return m
		}
	}
	want1 := &Reply{Authoritative: true, Answer: []Record{{Name: "db-1.example.test.", Type: dns.TypeA, Addr: netip.MustParseAddr("192.0.2.1")}}}

	for _, tt := range []struct {
		name    string
		udp     func(q *dns.Msg) [][]byte
		tcp     func(q *dns.Msg) []byte
		timeout time.Duration // default 5s
		want    *Reply
		wantErr []string
		wantTCP int
	}{
		{name: "plain answer", udp: udp(a1), want: want1},
		{name: "truncated UDP answer is asked again over TCP",
			udp: udp(func(q *dns.Msg) *dns.Msg {
				m := replyTo(q, rrA("db-1.example.test.", "192.0.2.99"))
				m.Truncated = true
				return m
			}),
			tcp: func(q *dns.Msg) []byte {
				return frame(pack(t, replyTo(q, rrA("db-1.example.test.", "192.0.2.1"), rrA("db-1.example.test.", "192.0.2.2"))))
			},
			want: &Reply{Authoritative: true, Answer: []Record{
				{Name: "db-1.example.test.", Type: dns.TypeA, Addr: netip.MustParseAddr("192.0.2.1")},
				{Name: "db-1.example.test.", Type: dns.TypeA, Addr: netip.MustParseAddr("192.0.2.2")},
			}},
			wantTCP: 1},
		{name: "reply with another ID is ignored, the real one taken",
			udp: udp(change(func(m *dns.Msg) { m.Id++ }), a1), want: want1},
		{name: "reply to another name is ignored",
			udp: udp(change(func(m *dns.Msg) {
				m.Question = []dns.Question{{Name: "db-2.example.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}}
			}), a1), want: want1},
		{name: "reply to another class is ignored",
			udp: udp(change(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), a1), want: want1},
		{name: "reply without a question is ignored",
			udp: udp(change(func(m *dns.Msg) { m.Question = nil }), a1), want: want1},
		{name: "reply to another type is ignored",
			udp: udp(change(func(m *dns.Msg) {
				m.Question = []dns.Question{{Name: "db-1.example.test.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET}}
			}), a1), want: want1},
		{name: "the query echoed back is ignored",
			udp: udp(change(func(m *dns.Msg) { m.Response = false }), a1), want: want1},
		{name: "garbage datagrams are ignored",
			udp: func(q *dns.Msg) [][]byte {
				return [][]byte{{0x01}, []byte("not DNS, not even close"), make([]byte, 12), pack(t, a1(q))}
			},
			want: want1},
		{name: "only garbage: a timeout saying what was ignored",
			udp: func(q *dns.Msg) [][]byte {
				return [][]byte{[]byte("garbage"), pack(t, change(func(m *dns.Msg) { m.Id++ })(q))}
			},
			timeout: 300 * time.Millisecond,
			wantErr: []string{"i/o timeout", "ignored 2 datagram(s)", "not the reply to the query: ID"}},
		{name: "server never answers", timeout: 300 * time.Millisecond,
			wantErr: []string{"asking ", " for db-1.example.test A: i/o timeout"}},
		{name: "matching reply with a malformed answer is an error at once",
			udp: func(q *dns.Msg) [][]byte {
				return [][]byte{cut(pack(t, a1(q)), 2), pack(t, a1(q))}
			},
			wantErr: []string{"malformed reply"}},
		{name: "error rcodes are replies",
			udp: udp(change(func(m *dns.Msg) {
				m.Rcode, m.Authoritative, m.Answer = dns.RcodeServerFailure, false, nil
			})),
			want: &Reply{Rcode: dns.RcodeServerFailure}},
		{name: "extended rcode",
			udp: udp(change(func(m *dns.Msg) {
				m.Answer = nil
				m.SetEdns0(udpSize, false)
				m.Rcode = dns.RcodeBadVers // 16: the upper bits go in the OPT record
			})),
			want: &Reply{Rcode: 16, Authoritative: true}},
		{name: "TCP reply cut short", udp: truncated,
			tcp:     func(q *dns.Msg) []byte { return cut(frame(pack(t, a1(q))), 5) },
			wantErr: []string{"over TCP (the UDP answer was truncated): reply cut short", "unexpected EOF"}, wantTCP: 1},
		{name: "TCP reply of garbage", udp: truncated,
			tcp:     func(q *dns.Msg) []byte { return frame([]byte("garbage, framed")) },
			wantErr: []string{"over TCP", "not the reply to the query"}, wantTCP: 1},
		{name: "TCP reply to another query", udp: truncated,
			tcp: func(q *dns.Msg) []byte {
				return frame(pack(t, change(func(m *dns.Msg) { m.Id++ })(q)))
			},
			wantErr: []string{"over TCP", "not the reply to the query: ID"}, wantTCP: 1},
		{name: "TCP closed without a reply", udp: truncated,
			tcp:     func(q *dns.Msg) []byte { return []byte{} },
			wantErr: []string{"over TCP", "closed the connection without a reply"}, wantTCP: 1},
		{name: "TCP never answers", udp: truncated, timeout: 300 * time.Millisecond,
			wantErr: []string{"over TCP", "timeout"}, wantTCP: 1},
		{name: "truncated over TCP too: kept as it came", udp: truncated,
			tcp: func(q *dns.Msg) []byte {
				m := a1(q)
				m.Truncated = true
				return frame(pack(t, m))
			},
			want:    &Reply{Authoritative: true, Truncated: true, Answer: want1.Answer},
			wantTCP: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, "127.0.0.1", &fakeServer{udp: tt.udp, tcp: tt.tcp})
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			got, err := Exchange(ctx, srv.addr, "db-1.example.test", dns.TypeA, false)
			if took := time.Since(start); took > timeout+500*time.Millisecond {
				t.Errorf("took %v, past the %v deadline", took, timeout)
			}
			if _, tcp := srv.seen(); tcp != tt.wantTCP {
				t.Errorf("%d TCP queries, want %d", tcp, tt.wantTCP)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				t.Logf("error: %v", err)
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %q, want it to contain %q", err, w)
					}
				}
				if !strings.Contains(err.Error(), srv.addr) {
					t.Errorf("err = %q does not name the server", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpAddr); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestExchangeQuery: what goes on the wire — the name as asked (made
// absolute), RD as asked, EDNS0 with udpSize, a fresh ID each time.
func TestExchangeQuery(t *testing.T) {
	srv := startFake(t, "127.0.0.1", &fakeServer{udp: func(q *dns.Msg) [][]byte { return [][]byte{pack(t, replyTo(q))} }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, recurse := range []bool{true, false} {
		if _, err := Exchange(ctx, srv.addr, "DB-1.example.test", dns.TypeAAAA, recurse); err != nil {
			t.Fatal(err)
		}
	}
	qs, _ := srv.seen()
	if len(qs) != 2 {
		t.Fatalf("%d queries, want 2", len(qs))
	}
	for i, q := range qs {
		if d := cmp.Diff([]dns.Question{{Name: "DB-1.example.test.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET}}, q.Question); d != "" {
			t.Errorf("question (-want +got):\n%s", d)
		}
		if q.RecursionDesired != (i == 0) || q.Response || len(q.Answer)+len(q.Ns) != 0 {
			t.Errorf("query %d header %+v", i, q.MsgHdr)
		}
		if opt := q.IsEdns0(); len(q.Extra) != 1 || opt == nil || opt.UDPSize() != udpSize {
			t.Errorf("query %d additionals %v, want one OPT of size %d", i, q.Extra, udpSize)
		}
	}
	// Two IDs in a row can be equal (1 in 65536); three cannot be by chance.
	if qs[0].Id == qs[1].Id {
		if _, err := Exchange(ctx, srv.addr, "x.example.test", dns.TypeA, true); err != nil {
			t.Fatal(err)
		}
		if qs, _ := srv.seen(); qs[2].Id == qs[0].Id {
			t.Errorf("the same ID %d three times", qs[0].Id)
		}
	}
}

// TestExchangeCancel: cancelling the context ends a wait at once and says
// so.
func TestExchangeCancel(t *testing.T) {
	srv := startFake(t, "127.0.0.1", &fakeServer{}) // never answers
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Exchange(ctx, srv.addr, "db-1.example.test", dns.TypeA, true)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("after %v: err = %v, want context.Canceled", time.Since(start), err)
	}
}

// TestExchangeNoDeadline: a context without a deadline works (exchange
// gives it DefaultTimeout; the test does not wait that long to see it).
func TestExchangeNoDeadline(t *testing.T) {
	srv := startFake(t, "127.0.0.1", &fakeServer{udp: func(q *dns.Msg) [][]byte { return [][]byte{pack(t, replyTo(q))} }})
	if _, err := Exchange(context.Background(), srv.addr, "db-1.example.test", dns.TypeA, true); err != nil {
		t.Fatal(err)
	}
}

func TestExchangeIPv6(t *testing.T) {
	srv := startFake(t, "::1", &fakeServer{udp: func(q *dns.Msg) [][]byte {
		return [][]byte{pack(t, replyTo(q, rrAAAA("db-1.example.test.", "2001:db8::11")))}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := Exchange(ctx, srv.addr, "db-1.example.test", dns.TypeAAAA, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Record{{Name: "db-1.example.test.", Type: dns.TypeAAAA, Addr: netip.MustParseAddr("2001:db8::11")}}, got.Answer, cmpAddr); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestExchangeErrors: failures before any reply, each naming the server
// and the name.
func TestExchangeErrors(t *testing.T) {
	// A loopback port nothing listens on: ICMP port unreachable.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tt := range []struct{ server, name, want string }{
		{closed, "db-1.example.test", "asking " + closed + " for db-1.example.test A: "},
		{"127.0.0.1:53", strings.Repeat("x", 64) + ".example.test", "building the query"},
		{"127.0.0.1:53", "a..example.test", "building the query"},
		{"not an address", "db-1.example.test", "asking not an address for db-1.example.test A"},
	} {
		_, err := Exchange(ctx, tt.server, tt.name, dns.TypeA, true)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Exchange(%s, %s): err = %v, want %q", tt.server, tt.name, err, tt.want)
		}
		t.Logf("error: %v", err)
	}
}
