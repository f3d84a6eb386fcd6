package humanize

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, \"quotes\" and ünïcode", "plain text, \"quotes\" and ünïcode"},
		{"key\nforged line", `key\nforged line`},
		{"tab\there\r", `tab\there\r`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"line\u2028separator", `line\u2028separator`},
		{"bad \xff byte", `bad \xff byte`},
		{"real \ufffd stays", "real \ufffd stays"},
	} {
		if diff := cmp.Diff(tc.want, OneLine(tc.in)); diff != "" {
			t.Errorf("OneLine(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
