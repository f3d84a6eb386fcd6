package dnsclient

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"
)

const testID = 0x1234

var testQ = question("db-1.example.test.", dnsmessage.TypeA)

// testReply is the authoritative reply to testQ, changed by edit.
func testReply(edit func(m *dnsmessage.Message)) dnsmessage.Message {
	m := replyTo(dnsmessage.Message{Header: dnsmessage.Header{ID: testID}, Questions: []dnsmessage.Question{testQ}})
	if edit != nil {
		edit(&m)
	}
	return m
}

func TestParseReply(t *testing.T) {
	soa := Record{Name: "example.test.", Type: dnsmessage.TypeSOA, Target: "ns1.example.test."}
	for _, tt := range []struct {
		name     string
		msg      []byte
		want     *Reply
		mismatch bool   // a *mismatchError: the exchange ignores it
		wantErr  string // another error
	}{
		{"A and AAAA, owner lower-cased",
			pack(t, testReply(func(m *dnsmessage.Message) {
				m.Answers = []dnsmessage.Resource{rrA("DB-1.Example.TEST.", "10.0.1.1"), rrAAAA("db-1.example.test.", "2001:db8::11")}
			})),
			&Reply{Authoritative: true, Answer: []Record{
				{Name: "db-1.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("10.0.1.1")},
				{Name: "db-1.example.test.", Type: dnsmessage.TypeAAAA, Addr: netip.MustParseAddr("2001:db8::11")},
			}}, false, ""},
		{"question matched without regard to case",
			pack(t, testReply(func(m *dnsmessage.Message) {
				m.Questions = []dnsmessage.Question{question("DB-1.EXAMPLE.test.", dnsmessage.TypeA)}
			})),
			&Reply{Authoritative: true}, false, ""},
		{"CNAME chain, NS, SOA, TXT (type and name only)",
			pack(t, testReply(func(m *dnsmessage.Message) {
				m.Answers = []dnsmessage.Resource{rrCNAME("db-1.example.test.", "Mid.Example.Test."), rrTXT("mid.example.test.", "hi"), rrA("mid.example.test.", "10.0.1.2")}
				m.Authorities = []dnsmessage.Resource{rrNS("example.test.", "NS1.example.test."), rrSOA("example.test.", "ns1.example.test.")}
				m.Additionals = []dnsmessage.Resource{rrA("ns1.example.test.", "127.0.0.1")}
			})),
			&Reply{Authoritative: true,
				Answer: []Record{
					{Name: "db-1.example.test.", Type: dnsmessage.TypeCNAME, Target: "mid.example.test."},
					{Name: "mid.example.test.", Type: dnsmessage.TypeTXT},
					{Name: "mid.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("10.0.1.2")},
				},
				Authority: []Record{{Name: "example.test.", Type: dnsmessage.TypeNS, Target: "ns1.example.test."}, soa},
			}, false, ""},
		{"NXDOMAIN with SOA",
			pack(t, testReply(func(m *dnsmessage.Message) {
				m.RCode = dnsmessage.RCodeNameError
				m.Authorities = []dnsmessage.Resource{rrSOA("example.test.", "ns1.example.test.")}
			})),
			&Reply{Rcode: dnsmessage.RCodeNameError, Authoritative: true, Authority: []Record{soa}}, false, ""},
		{"extended rcode from OPT",
			pack(t, testReply(func(m *dnsmessage.Message) { m.Additionals = []dnsmessage.Resource{rrOPT(16)} })),
			&Reply{Rcode: 16, Authoritative: true}, false, ""},
		{"record of another class skipped",
			pack(t, testReply(func(m *dnsmessage.Message) {
				ch := rrA("db-1.example.test.", "10.9.9.9")
				ch.Header.Class = dnsmessage.ClassCHAOS
				m.Answers = []dnsmessage.Resource{ch, rrA("db-1.example.test.", "10.0.1.1")}
			})),
			&Reply{Authoritative: true, Answer: []Record{{Name: "db-1.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("10.0.1.1")}}}, false, ""},
		{"truncated and cut off: what came is kept",
			cut(pack(t, testReply(func(m *dnsmessage.Message) {
				m.Truncated = true
				m.Answers = []dnsmessage.Resource{rrA("db-1.example.test.", "10.0.1.1"), rrA("db-1.example.test.", "10.0.1.2")}
			})), 3),
			&Reply{Authoritative: true, Truncated: true, Answer: []Record{
				{Name: "db-1.example.test.", Type: dnsmessage.TypeA, Addr: netip.MustParseAddr("10.0.1.1")},
			}}, false, ""},
		{"cut off without TC", cut(pack(t, testReply(func(m *dnsmessage.Message) {
			m.Answers = []dnsmessage.Resource{rrA("db-1.example.test.", "10.0.1.1")}
		})), 3), nil, false, "malformed reply"},
		{"another ID", pack(t, testReply(func(m *dnsmessage.Message) { m.ID++ })), nil, true, "ID 4661, want 4660"},
		{"a query, not a response", pack(t, testReply(func(m *dnsmessage.Message) { m.Response = false })), nil, true, "not a response"},
		{"another name", pack(t, testReply(func(m *dnsmessage.Message) {
			m.Questions = []dnsmessage.Question{question("db-2.example.test.", dnsmessage.TypeA)}
		})), nil, true, "answers db-2.example.test. A, not db-1.example.test. A"},
		{"another type", pack(t, testReply(func(m *dnsmessage.Message) {
			m.Questions = []dnsmessage.Question{question("db-1.example.test.", dnsmessage.TypeAAAA)}
		})), nil, true, "AAAA"},
		{"another class", pack(t, testReply(func(m *dnsmessage.Message) { m.Questions[0].Class = dnsmessage.ClassCHAOS })), nil, true, "class 3, not 1"},
		{"no question", pack(t, testReply(func(m *dnsmessage.Message) { m.Questions = nil })), nil, true, "no question"},
		{"short header", []byte{0x12, 0x34, 0x80}, nil, true, "header"},
		{"empty", nil, nil, true, "header"},
		{"garbage", []byte("this is not a DNS message at all"), nil, true, ""},
		{"answer count larger than the answers",
			func() []byte {
				b := pack(t, testReply(nil))
				binary.BigEndian.PutUint16(b[6:], 100) // ANCOUNT
				return b
			}(),
			nil, false, "malformed reply"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReply(tt.msg, testID, testQ)
			if tt.mismatch != isMismatch(err) {
				t.Errorf("err = %v: mismatch = %v, want %v", err, isMismatch(err), tt.mismatch)
			}
			if tt.wantErr != "" || tt.mismatch {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Errorf("got %+v, %v; want an error containing %q", got, err, tt.wantErr)
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

// cut drops the last n bytes of b.
func cut(b []byte, n int) []byte { return b[:len(b)-n] }

// TestBuildQuery: one question, RD as asked, and an EDNS0 OPT record that
// advertises udpSize.
func TestBuildQuery(t *testing.T) {
	for _, recurse := range []bool{true, false} {
		b, err := buildQuery(testID, testQ, recurse)
		if err != nil {
			t.Fatal(err)
		}
		var m dnsmessage.Message
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		want := dnsmessage.Message{
			Header:      dnsmessage.Header{ID: testID, RecursionDesired: recurse},
			Questions:   []dnsmessage.Question{testQ},
			Answers:     []dnsmessage.Resource{},
			Authorities: []dnsmessage.Resource{},
			Additionals: []dnsmessage.Resource{rrOPT(0)},
		}
		want.Additionals[0].Header.Length = 0
		if d := cmp.Diff(want, m); d != "" {
			t.Errorf("recurse=%v (-want +got):\n%s", recurse, d)
		}
		if m.Additionals[0].Header.Class != udpSize {
			t.Errorf("EDNS0 UDP size %d, want %d", m.Additionals[0].Header.Class, udpSize)
		}
	}
	for _, bad := range []string{"a..example.test.", strings.Repeat("x", 64) + ".example.test.", "no-final-dot"} {
		n, err := dnsmessage.NewName(bad)
		if err == nil {
			_, err = buildQuery(testID, dnsmessage.Question{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}, true)
		}
		if err == nil {
			t.Errorf("buildQuery(%q) did not fail", bad)
		}
	}
}

// FuzzParseReply: no input panics, and a reply accepted is the reply to
// the question asked, with names lower case and absolute.
func FuzzParseReply(f *testing.F) {
	f.Add(pack(f, testReply(func(m *dnsmessage.Message) {
		m.Answers = []dnsmessage.Resource{rrCNAME("db-1.example.test.", "mid.example.test."), rrA("mid.example.test.", "10.0.1.1"), rrAAAA("mid.example.test.", "2001:db8::1"), rrTXT("mid.example.test.", "x")}
		m.Authorities = []dnsmessage.Resource{rrNS("example.test.", "ns1.example.test."), rrSOA("example.test.", "ns1.example.test.")}
		m.Additionals = []dnsmessage.Resource{rrA("ns1.example.test.", "127.0.0.1"), rrOPT(16)}
	})))
	f.Add(cut(pack(f, testReply(func(m *dnsmessage.Message) {
		m.Truncated = true
		m.Answers = []dnsmessage.Resource{rrA("db-1.example.test.", "10.0.1.1")}
	})), 2))
	f.Add(pack(f, testReply(func(m *dnsmessage.Message) { m.ID = 1 })))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReply(b, testID, testQ)
		if err != nil {
			if r != nil {
				t.Errorf("a reply and an error: %+v, %v", r, err)
			}
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(b)
		if err != nil {
			t.Fatalf("accepted a reply dnsmessage cannot read: %v", err)
		}
		q, err := p.Question()
		if err != nil || h.ID != testID || !h.Response || q.Type != testQ.Type || q.Class != testQ.Class ||
			!strings.EqualFold(q.Name.String(), testQ.Name.String()) {
			t.Fatalf("accepted the reply to another query: %+v %+v (%v)", h, q, err)
		}
		if r.Truncated != h.Truncated || r.Authoritative != h.Authoritative || r.Rcode&0xf != h.RCode {
			t.Errorf("header %+v read as %+v", h, r)
		}
		for _, rec := range append(r.Answer, r.Authority...) {
			for _, n := range []string{rec.Name, rec.Target} {
				if n != lowerASCII(n) || (n != "" && !strings.HasSuffix(n, ".")) || (n == "" && n == rec.Name) {
					t.Errorf("name %q of %+v", n, rec)
				}
			}
			switch {
			case rec.Type == dnsmessage.TypeA && !rec.Addr.Is4(),
				rec.Type == dnsmessage.TypeAAAA && !rec.Addr.Is6(),
				rec.Type != dnsmessage.TypeA && rec.Type != dnsmessage.TypeAAAA && rec.Addr.IsValid():
				t.Errorf("address of %+v", rec)
			}
		}
	})
}
