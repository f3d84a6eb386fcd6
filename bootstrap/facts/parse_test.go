package facts

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// The patterns the checks in parse.go replaced, kept as their oracle.
var (
	oracleInstanceID = regexp.MustCompile(`^i-[0-9A-Za-z]{1,32}$`)
	oracleToken      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	oracleHostRe     = regexp.MustCompile(`^` + oracleLabel + `(\.` + oracleLabel + `)*\.?$`)
	oracleMapping    = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)
	oracleDevice     = regexp.MustCompile(`^(/dev/)?[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	oracleZone       = regexp.MustCompile(`^([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+)[a-z]$`)
)

// oracleLabel is a host name label as config.IsHostname (which parseHost
// uses) has it: letters, digits, '-' and '_', at most 63, no '-' at either end.
const oracleLabel = `[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?`

// oracleHost adds the 253-byte limit of a name (without its final dot).
func oracleHost(s string) bool {
	return oracleHostRe.MatchString(s) && len(strings.TrimSuffix(s, ".")) <= 253
}

func oracleRegionOf(zone string) string {
	if m := oracleZone.FindStringSubmatch(zone); m != nil {
		return m[1]
	}
	return ""
}

// checkCases are edge cases for every check at once: each is run through
// all of them.
var checkCases = []string{
	"", " ", "\n", "-", ".", "..", "/", "_", ":",
	// instance-ids
	"i-", "i-0", "i-0123456789abcdef0", "i-" + strings.Repeat("a", 32), "i-" + strings.Repeat("Z", 33),
	"I-abc", "i-abc\n", "i-abc ", " i-abc", "i-ab_c", "i-ab-c", "i-é", "i-\u212a", "ii-abc", "i--abc", "i-abc\x00",
	// tokens
	"ami-0abc", "m5d.large", "eu-west-1", "eu-west-1b", "a:b", "a_b", "a._:-", "_a", ".a", "-a", ":a",
	strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129), "a" + strings.Repeat(".", 127), "a b", "a\tb",
	// host names
	"ip-10-0-0-1.ec2.internal", "ip-10-0-0-1.ec2.internal.", "a..b", "a.", "a..", ".a.", "a-.b", "-a.b", "a.-b", "a.b-",
	"A-B.c-D", "xn--bcher-kva.example", "a.b.c.d.e.f", "1.2.3.4", "a--b", "a_b.c", "bücher.example", "a.b\n", "a.b.",
	"_dmarc.example", "a-_", "_-a", strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127) + "a", strings.Repeat("a.", 127),
	strings.Repeat("a", 63) + "." + strings.Repeat("b", 64),
	// mapping names
	"ami", "root", "swap", "ebs12", "ephemeral0", "Root", "0ab", "a" + strings.Repeat("0", 31), "a" + strings.Repeat("0", 32), "ebs-1",
	// devices
	"sdb", "/dev/xvda", "/dev/", "/dev//dev/x", "/dev/dev/x", "dev/xvda", "//dev/xvda", "/dev/_x", "/dev/-x", "xvd_a-1", "/DEV/xvda",
	"/dev/" + strings.Repeat("a", 64), "/dev/" + strings.Repeat("a", 65), strings.Repeat("b", 64), strings.Repeat("b", 65), "/dev/x.y",
	// zones
	"us-east-1a", "us-gov-west-1a", "us-iso-east-1a", "us-isob-east-1a", "us-isof-south-1a", "us-gov-1a", "us-iso-1a", "us-isox-1a",
	"us-east-1", "us-east-1-wl1-bos-wlz-1", "us-west-2-lax-1a", "cn-north-1a", "eu-central-10z", "usa-east-1a", "u-east-1a",
	"US-east-1a", "us-east-1A", "us-isoB-east-1a", "us--east-1a", "us-east--1a", "us-east-1a\n", "us-east-12", "us-gov-east-west-1a",
	"us-iso-gov-east-1a", "us-gov-gov-1a", "us-east-a", "us-1a", "us-east1a", "us-east-1ab", "us-east-1-a", "-us-east-1a",
}

// checks holds every check's verdict on one input.
type checks struct {
	InstanceID, Token, Host, Mapping, Device bool
	Region                                   string
}

func newChecks(s string) checks {
	return checks{isInstanceID(s), isToken(s), config.IsHostname(s), isMappingName(s), isDeviceName(s), regionOf(s)}
}

func oracleChecks(s string) checks {
	return checks{oracleInstanceID.MatchString(s), oracleToken.MatchString(s), oracleHost(s),
		oracleMapping.MatchString(s), oracleDevice.MatchString(s), oracleRegionOf(s)}
}

func TestChecksMatchPatterns(t *testing.T) {
	// sides records which verdicts (bit 0: false, bit 1: true) each
	// pattern gave over the table, so that a check the table only ever
	// passes or only ever fails shows up.
	sides := map[string]int{}
	note := func(name string, v bool) {
		if v {
			sides[name] |= 2
		} else {
			sides[name] |= 1
		}
	}
	for _, s := range checkCases {
		got, want := newChecks(s), oracleChecks(s)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: (-pattern +check)\n%s", s, diff)
		}
		note("instance-id", want.InstanceID)
		note("token", want.Token)
		note("host", want.Host)
		note("mapping", want.Mapping)
		note("device", want.Device)
		note("zone", want.Region != "")
	}
	want := map[string]int{"instance-id": 3, "token": 3, "host": 3, "mapping": 3, "device": 3, "zone": 3}
	if diff := cmp.Diff(want, sides); diff != "" {
		t.Errorf("the table does not both pass and fail every check (1: fails only, 2: passes only):\n%s", diff)
	}
}

// fuzzCheck asserts that check agrees with its pattern on every input.
func fuzzCheck[T comparable](f *testing.F, check, oracle func(string) T) {
	for _, s := range checkCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := check(s), oracle(s); got != want {
			t.Errorf("%q: got %v, the pattern gives %v", s, got, want)
		}
	})
}

func FuzzIsInstanceID(f *testing.F)  { fuzzCheck(f, isInstanceID, oracleInstanceID.MatchString) }
func FuzzIsToken(f *testing.F)       { fuzzCheck(f, isToken, oracleToken.MatchString) }
func FuzzIsHostname(f *testing.F)    { fuzzCheck(f, config.IsHostname, oracleHost) }
func FuzzIsMappingName(f *testing.F) { fuzzCheck(f, isMappingName, oracleMapping.MatchString) }
func FuzzIsDeviceName(f *testing.F)  { fuzzCheck(f, isDeviceName, oracleDevice.MatchString) }
func FuzzRegionOf(f *testing.F)      { fuzzCheck(f, regionOf, oracleRegionOf) }

func TestChecksDoNotAllocate(t *testing.T) {
	host := "ip-10-0-0-1.eu-west-1.compute.internal."
	n := testing.AllocsPerRun(100, func() {
		_ = isInstanceID("i-0123456789abcdef0") && isToken("m5d.large") && config.IsHostname(host) &&
			isMappingName("ephemeral0") && isDeviceName("/dev/xvda") && regionOf("us-gov-west-1a") != ""
	})
	if n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}
