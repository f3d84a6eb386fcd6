package cli

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args    []string
		cmd     string
		globals Values
		flags   Values
		rest    []string
	}{
		{[]string{"run"}, "run", Values{}, Values{"force": false, "lock-wait": 2 * time.Minute}, nil},
		{[]string{"--root", "/r", "run", "--force", "--lock-wait=5s", "-v"}, "run",
			Values{"root": "/r", "verbose": true}, Values{"force": true, "lock-wait": 5 * time.Second}, nil},
		{[]string{"validate", "a.toml", "--config", "c.toml"}, "validate", Values{"config": "c.toml"}, Values{"facts": ""}, []string{"a.toml"}},
		{[]string{"validate", "--", "--odd-name.toml"}, "validate", Values{}, Values{"facts": ""}, []string{"--odd-name.toml"}},
		{[]string{"validate", "--facts", "f.json", "a.toml"}, "validate", Values{}, Values{"facts": "f.json"}, []string{"a.toml"}},
		{[]string{"status", "--json=false"}, "status", Values{}, Values{"json": false}, nil},
	}
	for _, tt := range tests {
		p, err := Parse(tt.args)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.args, err)
			continue
		}
		globals := defaults(GlobalFlags())
		for k, v := range tt.globals {
			globals[k] = v
		}
		got := struct {
			Cmd           string
			Globals, Flag Values
			Rest          []string
		}{p.Command.Name, p.Globals, p.Flags, p.Args}
		want := struct {
			Cmd           string
			Globals, Flag Values
			Rest          []string
		}{tt.cmd, globals, tt.flags, tt.rest}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.args, d)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	names := []string{"run", "plan", "facts", "validate", "status", "relocate", "prepare-image", "version", "help"}
	tests := []struct{ word, want string }{
		{"rnu", `; did you mean "run"?`},
		{"stauts", `; did you mean "status"?`},
		{"valdiate", `; did you mean "validate"?`},
		{"prepare-imgae", `; did you mean "prepare-image"?`},
		{"plna", `; did you mean "plan"?`},
		{"st", ""},
		{"frobnicate", ""},
	}
	for _, tt := range tests {
		if got := didYouMean(tt.word, names, ""); got != tt.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"run", "", 3}, {"", "run", 3}, {"run", "run", 0}, {"rnu", "run", 1}, {"force", "forse", 1}, {"kitten", "sitting", 3}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzParse: any command line is either parsed into a command of the table
// with no more arguments than it takes, or refused with a UsageError.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"run --force", "--root\x00/r\x00plan", "help\x00run", "validate\x00--\x00-x", "-v=maybe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := splitNUL(line)
		p, err := Parse(args)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q): %T %v", args, err, err)
			}
			return
		}
		if p.Help || p.Version {
			return
		}
		if _, ok := Lookup(p.Command.Name); !ok || len(p.Args) > p.Command.MaxArgs {
			t.Fatalf("Parse(%q) = %+v", args, p)
		}
	})
}

func splitNUL(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
