package dnsclient

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// Test helpers that build messages with miekg/dns, so that a test states
// the message it means rather than bytes.

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func rh(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
}

func rrA(name, addr string) dns.RR {
	return &dns.A{Hdr: rh(name, dns.TypeA), A: net.ParseIP(addr).To4()}
}

func rrAAAA(name, addr string) dns.RR {
	return &dns.AAAA{Hdr: rh(name, dns.TypeAAAA), AAAA: net.ParseIP(addr)}
}

// replyTo is the authoritative NOERROR reply to query q with answers.
func replyTo(q *dns.Msg, answers ...dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.Answer = answers
	return m
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Errorf("packing %v: %v", m, err)
	}
	return b
}

// frame prefixes a message with its length, as DNS over TCP does.
func frame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// cut drops the last n bytes of b.
func cut(b []byte, n int) []byte { return b[:len(b)-n] }
