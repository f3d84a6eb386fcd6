package dnsclient

import (
	"strconv"

	"github.com/miekg/dns"
)

// RcodeText names a response code as dig and BIND's logs do ("NXDOMAIN",
// "SERVFAIL"), and one miekg/dns has no name for as "RCODE<n>".
func RcodeText(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// TypeText names a record type as zone files do ("AAAA"), and an unknown
// one as RFC 3597 does ("TYPE65").
func TypeText(t uint16) string { return dns.Type(t).String() }
