package ddns

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line is one line of a dyndns2 reply: a return code and what follows it
// (usually the address for good/nochg).
type Line struct {
	Code string
	Arg  string
}

// maxLines bounds how much of a reply is looked at; a request carries at
// most 20 names, so anything longer is not a dyndns2 reply anyway.
const maxLines = 64

// ParseResponse splits a dyndns2 reply body into lines: CR/LF tolerant,
// blank lines skipped, the first word of each line is its code.
func ParseResponse(body []byte) []Line {
	var out []Line
	for _, raw := range strings.Split(string(body), "\n") {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		code, arg, _ := strings.Cut(s, " ")
		out = append(out, Line{Code: code, Arg: strings.TrimSpace(arg)})
		if len(out) == maxLines {
			break
		}
	}
	return out
}

// Assign maps reply lines onto the n names of a request, in request order.
// A single account- or system-level line (badauth, 911, ...) answers for
// every name; otherwise each name needs its own line, and a name without one
// has failed. Warnings describe anything odd that was tolerated.
func Assign(lines []Line, n int) (outcomes []Outcome, warnings []string) {
	outcomes = make([]Outcome, n)
	if n == 0 {
		return outcomes, nil
	}
	if len(lines) == 1 && n > 1 {
		o := classify(lines[0])
		if o.Scope != AccountScope {
			// Dyn answers a per-name code once when it concerns every name
			// (notfqdn without names; a single good from a lenient server).
			warnings = append(warnings, fmt.Sprintf("one reply line %q for %d names: applied to all of them", printable(lines[0].Code), n))
		}
		for i := range outcomes {
			outcomes[i] = o
		}
		return outcomes, warnings
	}
	for i := range outcomes {
		if i < len(lines) {
			outcomes[i] = classify(lines[i])
			continue
		}
		outcomes[i] = Outcome{Code: "no reply", Class: Failed, Scope: HostScope,
			Detail: fmt.Sprintf("the provider answered %d line(s) for %d names; this one got none", len(lines), n)}
	}
	if len(lines) > n {
		warnings = append(warnings, fmt.Sprintf("%d extra reply line(s) ignored", len(lines)-n))
	}
	return outcomes, warnings
}

func classify(l Line) Outcome {
	info, ok := lookupCode(l.Code)
	if !ok {
		code := printable(l.Code)
		if code == "" {
			code = "unprintable"
		}
		return Outcome{Code: code, Class: Failed, Scope: HostScope,
			Detail: fmt.Sprintf("unknown reply %q; not taken as success", printable(l.Code+" "+l.Arg))}
	}
	o := Outcome{Code: strings.ToLower(l.Code), Class: info.class, Scope: info.scope, Detail: info.detail}
	if info.class == Success {
		o.Echo = printable(l.Arg)
	}
	return o
}

// printable makes provider text safe for one log line: no control
// characters, no invalid UTF-8, at most 80 runes.
func printable(s string) string {
	var b strings.Builder
	n := 0
	for len(s) > 0 && n < 80 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune('?')
		case unicode.IsControl(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
		n++
	}
	if len(s) > 0 {
		b.WriteString("...")
	}
	return strings.TrimSpace(b.String())
}
