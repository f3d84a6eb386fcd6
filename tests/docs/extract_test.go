package docs_test

import (
	"fmt"
	"regexp"
	"strings"
)

// block is one fenced code block of a Markdown file.
type block struct {
	file  string   // relative to the repository, e.g. docs/dns.md
	line  int      // 1-based line of the opening fence
	info  string   // the info string's first word, lower case ("toml", "yaml", "")
	body  string   // the lines between the fences, each ending in "\n"
	marks []string // the words of an <!-- example: ... --> comment right before the fence
	why   string   // the comment's text after "--"
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// has reports whether the block carries the marker word.
func (b block) has(mark string) bool {
	for _, m := range b.marks {
		if m == mark {
			return true
		}
	}
	return false
}

// markerRE is the comment that marks a block: on the line right before
// the opening fence, "<!-- example: WORD [WORD...] [-- REASON] -->".
var markerRE = regexp.MustCompile(`^\s*<!--\s*example:\s*(.*?)\s*-->\s*$`)

// fenceRE is an opening or closing fence: three or more backticks or
// tildes, indented by at most three spaces (CommonMark).
var fenceRE = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})(.*)$")

// extract returns every fenced block of a Markdown text. A block left
// open at the end of the file runs to the end, as CommonMark says; a
// marker line that is not right before a fence is an error, so a marker
// cannot silently stop applying when someone inserts a line between.
func extract(file, text string) ([]block, error) {
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // the text ends with a line ending, not an empty line
	}
	var (
		blocks  []block
		open    *block
		fence   string
		pending []string // marker words waiting for the next line's fence
		why     string
		pendAt  int
	)
	for i, l := range lines {
		ln := strings.TrimRight(l, "\r\n")
		if open != nil {
			if m := fenceRE.FindStringSubmatch(ln); m != nil && m[2][0] == fence[0] && len(m[2]) >= len(fence) && strings.TrimSpace(m[3]) == "" {
				blocks = append(blocks, *open)
				open = nil
				continue
			}
			open.body += ln + "\n"
			continue
		}
		if m := fenceRE.FindStringSubmatch(ln); m != nil && !(m[2][0] == '`' && strings.Contains(m[3], "`")) {
			info := strings.Fields(strings.ToLower(m[3]))
			b := block{file: file, line: i + 1, marks: pending, why: why}
			if len(info) > 0 {
				b.info = strings.Trim(info[0], "{}.")
			}
			open, fence, pending = &b, m[2], nil
			continue
		}
		if pending != nil {
			return nil, fmt.Errorf("%s:%d: <!-- example: %s --> is not right before a fenced block", file, pendAt, strings.Join(pending, " "))
		}
		if m := markerRE.FindStringSubmatch(ln); m != nil {
			words, reason, _ := strings.Cut(m[1], "--") // "-- REASON" explains, it does not mark
			pending, why, pendAt = strings.Fields(words), strings.TrimSpace(reason), i+1
			if len(pending) == 0 {
				return nil, fmt.Errorf("%s:%d: <!-- example: --> without a marker word", file, i+1)
			}
		}
	}
	if pending != nil {
		return nil, fmt.Errorf("%s:%d: <!-- example: %s --> is not right before a fenced block", file, pendAt, strings.Join(pending, " "))
	}
	if open != nil {
		blocks = append(blocks, *open)
	}
	return blocks, nil
}
