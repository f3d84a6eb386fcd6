package hosts

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The patterns the marker checks replaced, kept as their oracle.
var (
	oracleBegin     = regexp.MustCompile(`^# BEGIN ec2boot(?: sha256=([0-9a-f]{16}))?$`)
	oracleEnd       = regexp.MustCompile(`^# END ec2boot$`)
	oracleMarkerish = regexp.MustCompile(`(?i)^[ \t]*#+[ \t]*(BEGIN|END)[ \t]+ec2boot\b`)
)

// markerVerdict is every marker check's verdict on one line.
type markerVerdict struct {
	Begin      bool
	Hash       string
	End, Looks bool
}

func markerVerdicts(t string) markerVerdict {
	hash, begin := cutBeginMarker(t)
	return markerVerdict{begin, hash, isEndMarker(t), looksLikeMarker(t)}
}

func oracleMarkerVerdicts(t string) markerVerdict {
	v := markerVerdict{End: oracleEnd.MatchString(t), Looks: oracleMarkerish.MatchString(t)}
	if m := oracleBegin.FindStringSubmatch(t); m != nil {
		v.Begin, v.Hash = true, m[1]
	}
	return v
}

const hash16 = "0123456789abcdef"

var markerCases = []string{
	"", "#", "# ", "# BEGIN", "# END", "# BEGIN ec2boot", "# END ec2boot", "# BEGIN ec2boot sha256=" + hash16,
	"# BEGIN ec2boot sha256=" + strings.ToUpper(hash16), "# BEGIN ec2boot sha256=" + hash16[1:], "# BEGIN ec2boot sha256=" + hash16 + "0",
	"# BEGIN ec2boot sha256=" + hash16 + " ", "# BEGIN ec2boot sha256=" + hash16 + "\n", "# BEGIN ec2boot sha256=" + hash16[:15] + "g",
	"# BEGIN ec2boot sha256=", "# BEGIN ec2boot sha256", "# BEGIN ec2boot  sha256=" + hash16, "# BEGIN ec2boot sha1=" + hash16,
	"# BEGIN ec2boot ", "# BEGIN ec2boot\r", "# END ec2boot ", "# END ec2boot\r", "# END ec2boot\n", " # END ec2boot",
	"#BEGIN ec2boot", "# begin ec2boot", "# Begin EC2Boot", "  ## BEGIN   ec2boot", "\t#\tEND\tec2boot", "###END ec2boot",
	"# END ec2boot peers", "# END ec2bootx", "# END ec2boot_", "# END ec2boot9", "# END ec2boot-x", "# END ec2boot.", "# END ec2bootä",
	"# END ec2boot\x00", "# ENDec2boot", "# END  EC2BOOT", "x # BEGIN ec2boot", "# BEGINX ec2boot", "# BEGIN\u00a0ec2boot",
	"# BEGIN\vec2boot", "# BEGIN\nec2boot", "\n# BEGIN ec2boot", "# END ec2boo", "# BE GIN ec2boot", "# BEGIN # ec2boot",
	"# # BEGIN ec2boot", "#\u3000BEGIN ec2boot", "# ＢEGIN ec2boot", "# END ec2boot sha256=" + hash16, "// BEGIN ec2boot",
}

func TestMarkerChecksMatchPatterns(t *testing.T) {
	type result struct {
		Line    string
		Verdict markerVerdict
	}
	var got, want []result
	for _, s := range markerCases {
		got = append(got, result{s, markerVerdicts(s)})
		want = append(want, result{s, oracleMarkerVerdicts(s)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-pattern +check)\n%s", diff)
	}
	// The table holds every kind of line: plain BEGIN, BEGIN with a hash,
	// END, near misses and lines that are no marker at all.
	kinds := map[string]bool{}
	for _, r := range want {
		v := r.Verdict
		kinds[fmt.Sprintf("begin=%v hash=%v end=%v looks=%v", v.Begin, v.Hash != "", v.End, v.Looks)] = true
	}
	for _, k := range []string{
		"begin=true hash=false end=false looks=true", "begin=true hash=true end=false looks=true",
		"begin=false hash=false end=true looks=true", "begin=false hash=false end=false looks=true",
		"begin=false hash=false end=false looks=false",
	} {
		if !kinds[k] {
			t.Errorf("no case with %s", k)
		}
	}
}

// fuzzMarker asserts that check agrees with its pattern on every line.
func fuzzMarker[T comparable](f *testing.F, check, oracle func(string) T) {
	for _, s := range markerCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := check(s), oracle(s); got != want {
			t.Errorf("%q: got %v, the pattern gives %v", s, got, want)
		}
	})
}

type beginVerdict struct {
	Hash string
	OK   bool
}

func FuzzCutBeginMarker(f *testing.F) {
	fuzzMarker(f, func(s string) beginVerdict {
		hash, ok := cutBeginMarker(s)
		return beginVerdict{hash, ok}
	}, func(s string) beginVerdict {
		if m := oracleBegin.FindStringSubmatch(s); m != nil {
			return beginVerdict{m[1], true}
		}
		return beginVerdict{}
	})
}

func FuzzIsEndMarker(f *testing.F)     { fuzzMarker(f, isEndMarker, oracleEnd.MatchString) }
func FuzzLooksLikeMarker(f *testing.F) { fuzzMarker(f, looksLikeMarker, oracleMarkerish.MatchString) }

func TestMarkerChecksDoNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		for _, s := range markerCases {
			markerVerdicts(s)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}
