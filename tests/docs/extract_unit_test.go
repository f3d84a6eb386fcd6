package docs_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []block
		err        string
	}{
		{name: "plain and typed", text: "x\n```toml\na = 1\n```\n```\n$ ls\n```\n",
			want: []block{{file: "p.md", line: 2, info: "toml", body: "a = 1\n"}, {file: "p.md", line: 5, body: "$ ls\n"}}},
		{name: "marker with reason", text: "<!-- example: fragment local -- needs the account -->\n```toml\n[x]\n```\n",
			want: []block{{file: "p.md", line: 2, info: "toml", body: "[x]\n", marks: []string{"fragment", "local"}, why: "needs the account"}}},
		{name: "tildes and a longer fence", text: "~~~~ yaml\n```toml\n~~~\n~~~~\n",
			want: []block{{file: "p.md", line: 1, info: "yaml", body: "```toml\n~~~\n"}}},
		{name: "unclosed runs to the end", text: "```toml\na = 1\n",
			want: []block{{file: "p.md", line: 1, info: "toml", body: "a = 1\n"}}},
		{name: "a marker inside a block is text", text: "```\n<!-- example: run -->\n```\n",
			want: []block{{file: "p.md", line: 1, body: "<!-- example: run -->\n"}}},
		{name: "CRLF", text: "```toml\r\na = 1\r\n```\r\n",
			want: []block{{file: "p.md", line: 1, info: "toml", body: "a = 1\n"}}},
		{name: "marker away from its fence", text: "<!-- example: run -->\n\n```toml\n```\n", err: "p.md:1: <!-- example: run --> is not right before a fenced block"},
		{name: "marker at the end", text: "<!-- example: invalid -->\n", err: "p.md:1: <!-- example: invalid --> is not right before"},
		{name: "marker without a word", text: "<!-- example: -- why -->\n```toml\n```\n", err: "p.md:1: <!-- example: --> without a marker word"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extract("p.md", tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(block{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzExtract: any text gives blocks whose lines are in the text and
// whose bodies are made of its lines, or an error naming a line.
func FuzzExtract(f *testing.F) {
	f.Add("<!-- example: run -->\n```toml\na = 1\n```\n")
	f.Add("~~~\n```\n~~~~\n")
	f.Add("<!-- example: x -->\n")
	f.Fuzz(func(t *testing.T, text string) {
		blocks, err := extract("p.md", text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "p.md:") {
				t.Fatalf("error without its place: %v", err)
			}
			return
		}
		lines := strings.Count(text, "\n") + 1
		last := 0
		for _, b := range blocks {
			if b.line <= last || b.line > lines {
				t.Fatalf("block at line %d after %d, text has %d lines", b.line, last, lines)
			}
			last = b.line
			if strings.Count(b.body, "\n") > lines {
				t.Fatalf("body longer than the text")
			}
		}
	})
}
