package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTypeErrorPattern: the decoder's type errors are taken apart into line,
// key and message; anything else is left alone.
func TestTypeErrorPattern(t *testing.T) {
	tests := []struct {
		in   string
		want []string // line, key, message; nil: no match
	}{
		{`toml: line 2 (last key "disk.warn_percent"): incompatible types: TOML value has type string; destination has type integer`,
			[]string{"2", "disk.warn_percent", "incompatible types: TOML value has type string; destination has type integer"}},
		{`toml: (last key "disk.warn_percent"): incompatible types`, []string{"", "disk.warn_percent", "incompatible types"}},
		{`toml: line 2 (last key ""): x`, []string{"2", "", "x"}},
		{"toml: line 2 (last key \"a\nb\"): x", []string{"2", "a\nb", "x"}},
		{`toml: line 2 (last key "a")`, nil},
		{`toml: line x (last key "a"): x`, nil},
		{`toml: line 2(last key "a"): x`, nil},
		{"toml: line 2 (last key \"a\"): x\ny", nil},
		{`TOML: (last key "a"): x`, nil},
		{"", nil},
	}
	for _, tc := range tests {
		var got []string
		if m := typeError.FindStringSubmatch(tc.in); m != nil {
			got = m[1:]
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, d)
		}
	}
}
