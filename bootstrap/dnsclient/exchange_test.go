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
	"golang.org/x/net/dns/dnsmessage"
)

// TestExchangeFaults runs Exchange against a server that misbehaves in
// the ways a network and broken servers do.
func TestExchangeFaults(t *testing.T) {
	a1 := func(q dnsmessage.Message) dnsmessage.Message {
		return replyTo(q, rrA("db-1.example.test.", "192.0.2.1"))
	}
	udp := func(ms ...func(q dnsmessage.Message) dnsmessage.Message) func(dnsmessage.Message) [][]byte {
		return func(q dnsmessage.Message) [][]byte {
			var out [][]byte
			for _, m := range ms {
				out = append(out, pack(t, m(q)))
			}
			return out
		}
	}
	truncated := udp(func(q dnsmessage.Message) dnsmessage.Message {
		m := replyTo(q) // a truncated answer that held nothing
		m.Truncated = true
		return m
	})
	change := func(edit func(m *dnsmessage.Message)) func(q dnsmessage.Message) dnsmessage.Message {
		return func(q dnsmessage.Message) dnsmessage.Message {
			m := replyTo(q, rrA("db-1.example.test.", "192.0.2.66"))
			edit(&m)
			return m
		}
	}
	want1 := &Reply{Authoritative: true, Answer: []Record{{Name: "db-1.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("192.0.2.1")}}}

	for _, tt := range []struct {
		name    string
		udp     func(q dnsmessage.Message) [][]byte
		tcp     func(q dnsmessage.Message) []byte
		timeout time.Duration // default 5s
		want    *Reply
		wantErr []string
		wantTCP int
	}{
		{name: "plain answer", udp: udp(a1), want: want1},
		{name: "truncated UDP answer is asked again over TCP",
			udp: udp(func(q dnsmessage.Message) dnsmessage.Message {
				m := replyTo(q, rrA("db-1.example.test.", "192.0.2.99"))
				m.Truncated = true
				return m
			}),
			tcp: func(q dnsmessage.Message) []byte {
				return frame(pack(t, replyTo(q, rrA("db-1.example.test.", "192.0.2.1"), rrA("db-1.example.test.", "192.0.2.2"))))
			},
			want: &Reply{Authoritative: true, Answer: []Record{
				{Name: "db-1.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("192.0.2.1")},
				{Name: "db-1.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("192.0.2.2")},
			}},
			wantTCP: 1},
		{name: "reply with another ID is ignored, the real one taken",
			udp: udp(change(func(m *dnsmessage.Message) { m.ID++ }), a1), want: want1},
		{name: "reply to another name is ignored",
			udp: udp(change(func(m *dnsmessage.Message) {
				m.Questions = []dnsmessage.Question{question("db-2.example.test.", dnsmessage.TypeA)}
			}), a1), want: want1},
		{name: "reply to another type is ignored",
			udp: udp(change(func(m *dnsmessage.Message) {
				m.Questions = []dnsmessage.Question{question("db-1.example.test.", dnsmessage.TypeAAAA)}
			}), a1), want: want1},
		{name: "the query echoed back is ignored",
			udp: udp(change(func(m *dnsmessage.Message) { m.Response = false }), a1), want: want1},
		{name: "garbage datagrams are ignored",
			udp: func(q dnsmessage.Message) [][]byte {
				return [][]byte{{0x01}, []byte("not DNS, not even close"), make([]byte, 12), pack(t, a1(q))}
			},
			want: want1},
		{name: "only garbage: a timeout saying what was ignored",
			udp: func(q dnsmessage.Message) [][]byte {
				return [][]byte{[]byte("garbage"), pack(t, change(func(m *dnsmessage.Message) { m.ID++ })(q))}
			},
			timeout: 300 * time.Millisecond,
			wantErr: []string{"i/o timeout", "ignored 2 datagram(s)", "not the reply to the query: ID"}},
		{name: "server never answers", timeout: 300 * time.Millisecond,
			wantErr: []string{"asking ", " for db-1.example.test A: i/o timeout"}},
		{name: "matching reply with a malformed answer is an error at once",
			udp: func(q dnsmessage.Message) [][]byte {
				return [][]byte{cut(pack(t, a1(q)), 2), pack(t, a1(q))}
			},
			wantErr: []string{"malformed reply"}},
		{name: "error rcodes are replies",
			udp: udp(change(func(m *dnsmessage.Message) {
				m.RCode, m.Authoritative, m.Answers = dnsmessage.RCodeServerFailure, false, nil
			})),
			want: &Reply{Rcode: dnsmessage.RCodeServerFailure}},
		{name: "extended rcode",
			udp: udp(change(func(m *dnsmessage.Message) {
				m.Answers, m.Additionals = nil, []dnsmessage.Resource{rrOPT(16)}
			})),
			want: &Reply{Rcode: 16, Authoritative: true}},
		{name: "TCP reply cut short", udp: truncated,
			tcp:     func(q dnsmessage.Message) []byte { return cut(frame(pack(t, a1(q))), 5) },
			wantErr: []string{"over TCP (the UDP answer was truncated): reply cut short after", "unexpected EOF"}, wantTCP: 1},
		{name: "TCP reply of garbage", udp: truncated,
			tcp:     func(q dnsmessage.Message) []byte { return frame([]byte("garbage, framed")) },
			wantErr: []string{"over TCP", "not the reply to the query"}, wantTCP: 1},
		{name: "TCP reply to another query", udp: truncated,
			tcp: func(q dnsmessage.Message) []byte {
				return frame(pack(t, change(func(m *dnsmessage.Message) { m.ID++ })(q)))
			},
			wantErr: []string{"over TCP", "not the reply to the query: ID"}, wantTCP: 1},
		{name: "TCP closed without a reply", udp: truncated,
			tcp:     func(q dnsmessage.Message) []byte { return []byte{} },
			wantErr: []string{"over TCP", "closed the connection without a reply"}, wantTCP: 1},
		{name: "TCP never answers", udp: truncated, timeout: 300 * time.Millisecond,
			wantErr: []string{"over TCP", "timeout"}, wantTCP: 1},
		{name: "truncated over TCP too: kept as it came", udp: truncated,
			tcp: func(q dnsmessage.Message) []byte {
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
			got, err := Exchange(ctx, srv.addr, "db-1.example.test", dnsmessage.TypeA, false)
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
	srv := startFake(t, "127.0.0.1", &fakeServer{udp: func(q dnsmessage.Message) [][]byte { return [][]byte{pack(t, replyTo(q))} }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, recurse := range []bool{true, false} {
		if _, err := Exchange(ctx, srv.addr, "DB-1.example.test", dnsmessage.TypeAAAA, recurse); err != nil {
			t.Fatal(err)
		}
	}
	qs, _ := srv.seen()
	if len(qs) != 2 {
		t.Fatalf("%d queries, want 2", len(qs))
	}
	for i, q := range qs {
		if d := cmp.Diff([]dnsmessage.Question{question("DB-1.example.test.", dnsmessage.TypeAAAA)}, q.Questions); d != "" {
			t.Errorf("question (-want +got):\n%s", d)
		}
		if q.RecursionDesired != (i == 0) || q.Response || len(q.Answers)+len(q.Authorities) != 0 {
			t.Errorf("query %d header %+v", i, q.Header)
		}
		if len(q.Additionals) != 1 || q.Additionals[0].Header.Type != dnsmessage.TypeOPT || q.Additionals[0].Header.Class != udpSize {
			t.Errorf("query %d additionals %v, want one OPT of size %d", i, q.Additionals, udpSize)
		}
	}
	// Two IDs in a row can be equal (1 in 65536); three cannot be by chance.
	if qs[0].ID == qs[1].ID {
		if _, err := Exchange(ctx, srv.addr, "x.example.test", dnsmessage.TypeA, true); err != nil {
			t.Fatal(err)
		}
		if qs, _ := srv.seen(); qs[2].ID == qs[0].ID {
			t.Errorf("the same ID %d three times", qs[0].ID)
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
	_, err := Exchange(ctx, srv.addr, "db-1.example.test", dnsmessage.TypeA, true)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("after %v: err = %v, want context.Canceled", time.Since(start), err)
	}
}

// TestExchangeNoDeadline: a context without a deadline works (exchange
// gives it DefaultTimeout; the test does not wait that long to see it).
func TestExchangeNoDeadline(t *testing.T) {
	srv := startFake(t, "127.0.0.1", &fakeServer{udp: func(q dnsmessage.Message) [][]byte { return [][]byte{pack(t, replyTo(q))} }})
	if _, err := Exchange(context.Background(), srv.addr, "db-1.example.test", dnsmessage.TypeA, true); err != nil {
		t.Fatal(err)
	}
}

func TestExchangeIPv6(t *testing.T) {
	srv := startFake(t, "::1", &fakeServer{udp: func(q dnsmessage.Message) [][]byte {
		return [][]byte{pack(t, replyTo(q, rrAAAA("db-1.example.test.", "2001:db8::11")))}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := Exchange(ctx, srv.addr, "db-1.example.test", dnsmessage.TypeAAAA, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Record{{Name: "db-1.example.test.", Type: dnsmessage.TypeAAAA, Addr: netip.MustParseAddr("2001:db8::11")}}, got.Answer, cmpAddr); d != "" {
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
		_, err := Exchange(ctx, tt.server, tt.name, dnsmessage.TypeA, true)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Exchange(%s, %s): err = %v, want %q", tt.server, tt.name, err, tt.want)
		}
		t.Logf("error: %v", err)
	}
}
