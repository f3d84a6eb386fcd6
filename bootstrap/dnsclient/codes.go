package dnsclient

import (
	"strconv"

	"golang.org/x/net/dns/dnsmessage"
)

// RcodeText names a response code as dig, BIND's logs and RFC 6895 do
// ("NXDOMAIN", "SERVFAIL"): operators read these names in ec2boot's
// messages, not dnsmessage's Go identifiers ("RCodeNameError").
func RcodeText(rc dnsmessage.RCode) string {
	switch rc {
	case dnsmessage.RCodeSuccess:
		return "NOERROR"
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNameError:
		return "NXDOMAIN"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	case 6:
		return "YXDOMAIN"
	case 7:
		return "YXRRSET"
	case 8:
		return "NXRRSET"
	case 9:
		return "NOTAUTH"
	case 10:
		return "NOTZONE"
	case 16:
		return "BADVERS"
	}
	return "RCODE" + strconv.Itoa(int(rc))
}

// TypeText names a record type as zone files do ("AAAA", not "TypeAAAA"),
// and an unknown one as RFC 3597 does ("TYPE65").
func TypeText(t dnsmessage.Type) string {
	switch t {
	case dnsmessage.TypeA:
		return "A"
	case dnsmessage.TypeAAAA:
		return "AAAA"
	case dnsmessage.TypeCNAME:
		return "CNAME"
	case dnsmessage.TypeNS:
		return "NS"
	case dnsmessage.TypeSOA:
		return "SOA"
	case dnsmessage.TypePTR:
		return "PTR"
	case dnsmessage.TypeMX:
		return "MX"
	case dnsmessage.TypeTXT:
		return "TXT"
	case dnsmessage.TypeSRV:
		return "SRV"
	}
	return "TYPE" + strconv.Itoa(int(t))
}
