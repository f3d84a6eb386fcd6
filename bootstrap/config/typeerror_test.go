package config

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oracleTypeError is the pattern cutTypeError replaced.
var oracleTypeError = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// typeErrorParts is what both give for one text.
type typeErrorParts struct {
	Line, Key, Msg string
	OK             bool
}

func cutTypeErrorParts(s string) typeErrorParts {
	line, key, msg, ok := cutTypeError(s)
	return typeErrorParts{line, key, msg, ok}
}

func oracleTypeErrorParts(s string) typeErrorParts {
	m := oracleTypeError.FindStringSubmatch(s)
	if m == nil {
		return typeErrorParts{}
	}
	return typeErrorParts{m[1], m[2], m[3], true}
}

var typeErrorCases = []string{
	"", "toml: ", "toml:", "TOML: (last key \"a\"): x",
	`toml: line 2 (last key "disk.warn_percent"): incompatible types: TOML value has type string; destination has type integer`,
	`toml: (last key "disk.warn_percent"): incompatible types`,
	`toml: line 2 (last key ""): x`, `toml: line 2 (last key "a"): `, `toml: line 2 (last key "a"):`,
	`toml: line 2 (last key "a")`, `toml: line (last key "a"): x`, `toml: line 2(last key "a"): x`,
	`toml: line 2  (last key "a"): x`, `toml: line x (last key "a"): x`, `toml: line  2 (last key "a"): x`,
	`toml: line -2 (last key "a"): x`, `toml: line 99999999999999999999 (last key "a"): x`, `toml: line ２ (last key "a"): x`,
	`toml: line 2 (last key "a\"b"): x`, `toml: line 2 (last key "a"b"): x`, `toml: line 2 (last key "a"): x): y`,
	"toml: line 2 (last key \"a\nb\"): x", "toml: line 2 (last key \"a\"): x\n", "toml: line 2 (last key \"a\"): x\ny",
	"toml: line 2 (last key \"a\"): \xff\xfe", " toml: (last key \"a\"): x", "toml:  (last key \"a\"): x",
	`toml: (last key "line 2"): x`, `toml: line 2 line 3 (last key "a"): x`, `toml: (last key 'a'): x`,
	`toml: line 2 (last key "é"): ü`,
}

func TestCutTypeErrorMatchesPattern(t *testing.T) {
	type result struct {
		In    string
		Parts typeErrorParts
	}
	var got, want []result
	matched := 0
	for _, s := range typeErrorCases {
		got = append(got, result{s, cutTypeErrorParts(s)})
		want = append(want, result{s, oracleTypeErrorParts(s)})
		if want[len(want)-1].Parts.OK {
			matched++
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-pattern +cutTypeError)\n%s", diff)
	}
	if matched == 0 || matched == len(typeErrorCases) {
		t.Errorf("the pattern matches %d of %d cases: the table should hold both kinds", matched, len(typeErrorCases))
	}
}

func FuzzCutTypeError(f *testing.F) {
	for _, s := range typeErrorCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cutTypeErrorParts(s), oracleTypeErrorParts(s); got != want {
			t.Errorf("%q: (-pattern +cutTypeError)\n%s", s, cmp.Diff(want, got))
		}
	})
}
