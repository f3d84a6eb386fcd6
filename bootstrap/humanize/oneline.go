package humanize

import (
	"strconv"
	"strings"
	"unicode"
)

// OneLine escapes what a terminal or the journal would not show as text:
// control characters (a newline would start a forged line, an escape
// sequence would repaint the screen), invalid UTF-8, and Unicode's other
// invisible or line-breaking characters. They become Go escapes (\n,
// \x1b, \u2028); everything else, quotes included, is left as it is.
func OneLine(s string) string {
	clean := true
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == unicode.ReplacementChar && strings.HasPrefix(s[i:], "\ufffd"):
			b.WriteRune(r) // a real U+FFFD, not a decoding error
		case r == unicode.ReplacementChar:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}
