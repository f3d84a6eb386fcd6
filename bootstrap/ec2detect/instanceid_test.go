package ec2detect

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oracleInstanceID is the pattern isInstanceID replaced.
var oracleInstanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

var instanceIDCases = []string{
	"", "i-", "i-0", "i-0123456", "i-01234567", "i-0123456789abcdef0", "i-0123456789abcdef01",
	"i-" + strings.Repeat("f", 17), "i-" + strings.Repeat("f", 18), "i-" + strings.Repeat("g", 8),
	"i-0123456789ABCDEF0", "I-01234567", "i_01234567", "i--01234567", "ii-01234567", " i-01234567",
	"i-01234567 ", "i-01234567\n", "\ni-01234567", "i-0123456é", "i-0123456\u212a", "i-01234567\x00",
	"i-abcdefab", "i-abcdefag", "x-01234567",
}

func TestIsInstanceIDMatchesPattern(t *testing.T) {
	type verdict struct {
		In    string
		Match bool
	}
	var got, want []verdict
	for _, s := range instanceIDCases {
		got = append(got, verdict{s, isInstanceID(s)})
		want = append(want, verdict{s, oracleInstanceID.MatchString(s)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-pattern +isInstanceID)\n%s", diff)
	}
}

func FuzzIsInstanceID(f *testing.F) {
	for _, s := range instanceIDCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isInstanceID(s), oracleInstanceID.MatchString(s); got != want {
			t.Errorf("isInstanceID(%q) = %v, the pattern gives %v", s, got, want)
		}
	})
}
