package dnsclient

import (
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func TestFqdn(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"example.test", "example.test."},
		{"example.test.", "example.test."},
		{"", "."},
		{".", "."},
	} {
		if got := Fqdn(tt.in); got != tt.want {
			t.Errorf("Fqdn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsSubDomain(t *testing.T) {
	for _, tt := range []struct {
		parent, child string
		want          bool
	}{
		{"example.test.", "example.test.", true},
		{"example.test", "web.example.test", true},
		{"Example.TEST.", "a.b.example.test.", true},
		{"example.test.", "WEB.EXAMPLE.TEST", true},
		{".", "web.example.test.", true},
		{"", "web.example.test.", true}, // "" is the root too
		{"example.test.", "aexample.test.", false},
		{"example.test.", "test.", false},
		{"web.example.test.", "example.test.", false},
		{"example.test.", "example.test.evil.", false},
	} {
		if got := IsSubDomain(tt.parent, tt.child); got != tt.want {
			t.Errorf("IsSubDomain(%q, %q) = %v, want %v", tt.parent, tt.child, got, tt.want)
		}
	}
}

func TestLowerASCII(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"DB-1.Example.TEST.", "db-1.example.test."},
		{"already.lower.", "already.lower."},
		// Bytes that are not UTF-8 stay as they are (strings.ToLower
		// would turn them into U+FFFD).
		{"\xffA\xc3.", "\xffa\xc3."},
		{"ÄB.", "Äb."},
	} {
		if got := lowerASCII(tt.in); got != tt.want {
			t.Errorf("lowerASCII(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !equalName(tt.in, tt.want) {
			t.Errorf("equalName(%q, %q) = false", tt.in, tt.want)
		}
	}
	if equalName("a.test.", "b.test.") || equalName("a.test.", "a.test") {
		t.Error("equalName matches different names")
	}
}

func TestRcodeAndTypeText(t *testing.T) {
	for rc, want := range map[dnsmessage.RCode]string{
		dnsmessage.RCodeSuccess: "NOERROR", dnsmessage.RCodeFormatError: "FORMERR",
		dnsmessage.RCodeServerFailure: "SERVFAIL", dnsmessage.RCodeNameError: "NXDOMAIN",
		dnsmessage.RCodeNotImplemented: "NOTIMP", dnsmessage.RCodeRefused: "REFUSED",
		9: "NOTAUTH", 16: "BADVERS", 23: "RCODE23",
	} {
		if got := RcodeText(rc); got != want {
			t.Errorf("RcodeText(%d) = %q, want %q", rc, got, want)
		}
	}
	for typ, want := range map[dnsmessage.Type]string{
		dnsmessage.TypeA: "A", dnsmessage.TypeAAAA: "AAAA", dnsmessage.TypeNS: "NS",
		dnsmessage.TypeCNAME: "CNAME", dnsmessage.TypeSOA: "SOA", dnsmessage.TypeHTTPS: "TYPE65",
	} {
		if got := TypeText(typ); got != want {
			t.Errorf("TypeText(%d) = %q, want %q", typ, got, want)
		}
	}
}
