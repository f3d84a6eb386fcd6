package facts

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// TestValueChecks: each check of a metadata value, on what it must accept
// and what it must refuse, lengths at their limits included.
func TestValueChecks(t *testing.T) {
	tests := []struct {
		name   string
		check  func(string) bool
		accept []string
		refuse []string
	}{
		{"instance-id", isInstanceID,
			[]string{"i-0", "i-0123456789abcdef0", "i-" + strings.Repeat("Z", 32)},
			[]string{"", "i-", "i-" + strings.Repeat("a", 33), "I-abc", "i-abc\n", " i-abc", "i-ab_c", "i-ab-c", "i-é", "i-\u212a"}},
		{"token", isToken,
			[]string{"ami-0abc", "m5d.large", "eu-west-1b", "a:b", "a_b", "a._:-", strings.Repeat("a", 128)},
			[]string{"", "_a", ".a", "-a", strings.Repeat("a", 129), "a b", "a\tb", "a\n"}},
		{"mapping", isMappingName,
			[]string{"ami", "root", "swap", "ebs12", "ephemeral0", "a" + strings.Repeat("0", 31)},
			[]string{"", "Root", "0ab", "a" + strings.Repeat("0", 32), "ebs-1"}},
		{"device", isDeviceName,
			[]string{"sdb", "/dev/xvda", "xvd_a-1", "/dev/" + strings.Repeat("a", 64), strings.Repeat("b", 64)},
			[]string{"", "/dev/", "/dev//dev/x", "/dev/dev/x", "dev/xvda", "//dev/xvda", "/dev/_x", "/dev/-x", "/DEV/xvda",
				"/dev/" + strings.Repeat("a", 65), strings.Repeat("b", 65), "/dev/x.y"}},
	}
	for _, tc := range tests {
		for _, s := range tc.accept {
			if !tc.check(s) {
				t.Errorf("%s: %q refused", tc.name, s)
			}
		}
		for _, s := range tc.refuse {
			if tc.check(s) {
				t.Errorf("%s: %q accepted", tc.name, s)
			}
		}
	}
}

func TestRegionOf(t *testing.T) {
	tests := map[string]string{
		"us-east-1a": "us-east-1", "us-gov-west-1a": "us-gov-west-1", "us-iso-east-1a": "us-iso-east-1",
		"us-isob-east-1a": "us-isob-east-1", "eu-central-10z": "eu-central-10", "cn-north-1a": "cn-north-1",
		"us-gov-1a": "us-gov-1", "us-east-1": "", "us-east-1-wl1-bos-wlz-1": "", "us-west-2-lax-1a": "", "usa-east-1a": "",
		"US-east-1a": "", "us-east-1A": "", "us-isoB-east-1a": "", "us-east-1a\n": "", "us-gov-east-west-1a": "",
		"us-east-1ab": "", "": "",
	}
	got := map[string]string{}
	for zone := range tests {
		got[zone] = regionOf(zone)
	}
	if d := cmp.Diff(tests, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// config.IsHostname is a byte loop (a pattern with its length limits would
// be slow to compile); this pattern is its oracle.
var oracleHostRe = regexp.MustCompile(`^` + oracleLabel + `(\.` + oracleLabel + `)*\.?$`)

// oracleLabel is a host name label as config.IsHostname (which parseHost
// uses) has it: letters, digits, '-' and '_', at most 63, no '-' at either end.
const oracleLabel = `[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?`

// oracleHost adds the 253-byte limit of a name (without its final dot).
func oracleHost(s string) bool {
	return oracleHostRe.MatchString(s) && len(strings.TrimSuffix(s, ".")) <= 253
}

var hostCases = []string{
	"", " ", "-", ".", "..", "_", "ip-10-0-0-1.ec2.internal", "ip-10-0-0-1.ec2.internal.", "a..b", "a.", "a..", ".a.",
	"a-.b", "-a.b", "a.-b", "a.b-", "A-B.c-D", "xn--bcher-kva.example", "a.b.c.d.e.f", "1.2.3.4", "a--b", "a_b.c",
	"bücher.example", "a.b\n", "_dmarc.example", "a-_", "_-a", strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127) + "a",
	strings.Repeat("a.", 127), strings.Repeat("a", 63) + "." + strings.Repeat("b", 64),
}

func TestIsHostnameMatchesPattern(t *testing.T) {
	accepted := 0
	for _, s := range hostCases {
		got, want := config.IsHostname(s), oracleHost(s)
		if got != want {
			t.Errorf("%q: IsHostname %v, the pattern %v", s, got, want)
		}
		if want {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(hostCases) {
		t.Errorf("the table should hold names both accepted and refused")
	}
}

func FuzzIsHostname(f *testing.F) {
	for _, s := range hostCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := config.IsHostname(s), oracleHost(s); got != want {
			t.Errorf("%q: IsHostname %v, the pattern %v", s, got, want)
		}
	})
}
