package dnsclient

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"
)

// Test helpers that build wire messages with dnsmessage itself, so that a
// test states the message it means rather than bytes.

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func question(name string, t dnsmessage.Type) dnsmessage.Question {
	return dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: t, Class: dnsmessage.ClassINET}
}

func rh(name string) dnsmessage.ResourceHeader {
	return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Class: dnsmessage.ClassINET, TTL: 60}
}

func rrA(name, addr string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rh(name), Body: &dnsmessage.AResource{A: netip.MustParseAddr(addr).As4()}}
}

func rrAAAA(name, addr string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rh(name), Body: &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(addr).As16()}}
}

func rrCNAME(name, target string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rh(name), Body: &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)}}
}

func rrNS(name, host string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rh(name), Body: &dnsmessage.NSResource{NS: dnsmessage.MustNewName(host)}}
}

func rrSOA(zone, mname string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rh(zone), Body: &dnsmessage.SOAResource{
		NS: dnsmessage.MustNewName(mname), MBox: dnsmessage.MustNewName("hostmaster." + zone),
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, MinTTL: 60}}
}

func rrTXT(name, text string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rh(name), Body: &dnsmessage.TXTResource{TXT: []string{text}}}
}

// rrOPT is an EDNS0 OPT record carrying the upper bits of rcode.
func rrOPT(rcode dnsmessage.RCode) dnsmessage.Resource {
	var h dnsmessage.ResourceHeader
	_ = h.SetEDNS0(udpSize, rcode, false)
	return dnsmessage.Resource{Header: h, Body: &dnsmessage.OPTResource{}}
}

// replyTo is the authoritative NOERROR reply to query m with answers.
func replyTo(m dnsmessage.Message, answers ...dnsmessage.Resource) dnsmessage.Message {
	return dnsmessage.Message{
		Header:    dnsmessage.Header{ID: m.ID, Response: true, Authoritative: true, RecursionDesired: m.RecursionDesired},
		Questions: m.Questions,
		Answers:   answers,
	}
}

func pack(t testing.TB, m dnsmessage.Message) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Errorf("packing %v: %v", m.GoString(), err)
	}
	return b
}

// frame prefixes a message with its length, as DNS over TCP does.
func frame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}
