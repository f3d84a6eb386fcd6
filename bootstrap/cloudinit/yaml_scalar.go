package cloudinit

import (
	"strings"
	"unicode/utf8"
)

// The scalar scanners: plain, quoted and block. As in PyYAML, a plain
// scalar's continuation lines must be indented past the enclosing block
// collection, quoted scalars fold their lines whatever the indentation,
// and a block scalar's indentation is its first non-empty line's.

// plainStart reports whether a plain scalar may start here: not at an
// indicator, except "-", "?" and ":" followed by a non-space (and in a flow
// collection, not "?" or ":" at all).
func (s *scanner) plainStart() bool {
	ch := s.at(0)
	if blankz(ch) {
		return false
	}
	if strings.IndexByte("-?:,[]{}#&*!|>'\"%@`", ch) < 0 {
		return true
	}
	return !blankz(s.at(1)) && (ch == '-' || s.flowLevel == 0 && (ch == '?' || ch == ':'))
}

// scanPlain reads a plain scalar, folding its lines. It ends at " #", at
// ": " (or, in a flow collection, ':' before a flow indicator, or a flow
// indicator), or at a line indented no more than the enclosing block.
func (s *scanner) scanPlain() {
	t := token{kind: tScalar, line: s.line, col: s.col, endLine: s.line}
	indent := s.indent + 1
	var text, spaces []byte
	for s.at(0) != '#' {
		n := 0
		for {
			ch := s.at(n)
			if blankz(ch) ||
				ch == ':' && (blankz(s.at(n+1)) || s.flowLevel > 0 && strings.IndexByte(",[]{}", s.at(n+1)) >= 0) ||
				s.flowLevel > 0 && strings.IndexByte(",?[]{}", ch) >= 0 {
				break
			}
			n++
		}
		if n == 0 {
			break
		}
		s.allowSimpleKey = false
		text = append(text, spaces...)
		text = append(text, s.buf[s.pos:s.pos+n]...)
		s.forward(n)
		t.endLine = s.line
		spaces = s.plainSpaces()
		if len(spaces) == 0 || s.at(0) == '#' || s.flowLevel == 0 && s.col < indent {
			break
		}
	}
	t.value = string(text)
	s.tokens = append(s.tokens, t)
}

// plainSpaces reads what separates two words of a plain scalar and
// returns it folded: nothing when the scalar ends there.
func (s *scanner) plainSpaces() []byte {
	n := 0
	for s.at(n) == ' ' {
		n++
	}
	ws := s.buf[s.pos : s.pos+n]
	s.forward(n)
	if s.at(0) != '\n' {
		return ws
	}
	s.forward(1)
	s.allowSimpleKey = true
	if s.docMarker("---") || s.docMarker("...") {
		return nil
	}
	breaks := 0
	for s.at(0) == ' ' || s.at(0) == '\n' {
		if s.at(0) == ' ' {
			s.forward(1)
			continue
		}
		breaks++
		s.forward(1)
		if s.docMarker("---") || s.docMarker("...") {
			return nil
		}
	}
	if breaks == 0 {
		return []byte{' '}
	}
	return []byte(strings.Repeat("\n", breaks))
}

// scanQuoted reads a single- or double-quoted scalar, folding its lines.
func (s *scanner) scanQuoted() error {
	t := token{kind: tScalar, line: s.line, col: s.col, style: s.at(0)}
	double := t.style == '"'
	s.forward(1)
	var text []byte
	for {
		var err error
		if text, err = s.quotedNonSpaces(double, text); err != nil {
			return err
		}
		if s.at(0) == t.style {
			break
		}
		if text, err = s.quotedSpaces(t.line, text); err != nil {
			return err
		}
	}
	s.forward(1)
	t.endLine = s.line
	t.value = string(text)
	s.tokens = append(s.tokens, t)
	return nil
}

// escape returns what a one-character escape in double quotes stands for.
func escape(c byte) (string, bool) {
	const from, to = "0abt\tnvfre \"\\/", "\x00\a\b\t\t\n\v\f\r\x1b \"\\/"
	if i := strings.IndexByte(from, c); i >= 0 {
		return to[i : i+1], true
	}
	switch c {
	case 'N':
		return "\u0085", true
	case '_':
		return "\u00a0", true
	case 'L':
		return "\u2028", true
	case 'P':
		return "\u2029", true
	}
	return "", false
}

// quotedNonSpaces reads text up to whitespace or the closing quote,
// replacing escapes.
func (s *scanner) quotedNonSpaces(double bool, text []byte) ([]byte, error) {
	for {
		n := 0
		for strings.IndexByte("'\"\\ \t\n", s.at(n)) < 0 && s.at(n) != 0 {
			n++
		}
		text = append(text, s.buf[s.pos:s.pos+n]...)
		s.forward(n)
		ch := s.at(0)
		switch {
		case !double && ch == '\'' && s.at(1) == '\'':
			text = append(text, '\'')
			s.forward(2)
		case double && ch == '\'' || !double && (ch == '"' || ch == '\\'):
			text = append(text, ch)
			s.forward(1)
		case double && ch == '\\':
			s.forward(1)
			c := s.at(0)
			if r, ok := escape(c); ok {
				text = append(text, r...)
				s.forward(1)
				continue
			}
			if digits := hexEscapeLen(c); digits > 0 {
				s.forward(1)
				code := 0
				for k := 0; k < digits; k++ {
					if !isHex(s.at(k)) {
						return nil, s.errorf("expected an escape sequence of %d hexadecimal digits", digits)
					}
					code = code<<4 | int(hexValue(s.at(k)))
				}
				if code > utf8.MaxRune {
					return nil, s.errorf("escape \\U%08X is beyond Unicode", code)
				}
				// A surrogate becomes U+FFFD, as it does in JSON.
				text = utf8.AppendRune(text, rune(code))
				s.forward(digits)
				continue
			}
			if c == '\n' {
				s.forward(1)
				breaks, err := s.quotedBreaks()
				if err != nil {
					return nil, err
				}
				text = append(text, strings.Repeat("\n", breaks)...)
				continue
			}
			return nil, s.errorf("unknown escape character %q in a double-quoted string", rune(c))
		default:
			return text, nil
		}
	}
}

// hexEscapeLen is the number of hex digits after \x, \u and \U.
func hexEscapeLen(c byte) int {
	switch c {
	case 'x':
		return 2
	case 'u':
		return 4
	case 'U':
		return 8
	}
	return 0
}

func hexValue(b byte) byte {
	switch {
	case isDigit(b):
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}

// quotedSpaces reads whitespace inside quotes: kept within a line, folded
// across lines.
func (s *scanner) quotedSpaces(startLine int, text []byte) ([]byte, error) {
	n := 0
	for s.at(n) == ' ' || s.at(n) == '\t' {
		n++
	}
	ws := s.buf[s.pos : s.pos+n]
	s.forward(n)
	switch s.at(0) {
	case 0:
		return nil, &yamlError{line: s.tokLine, col: s.tokCol, msgLine: startLine, msg: "quoted string not closed"}
	case '\n':
		s.forward(1)
		breaks, err := s.quotedBreaks()
		if err != nil {
			return nil, err
		}
		if breaks == 0 {
			return append(text, ' '), nil
		}
		return append(text, strings.Repeat("\n", breaks)...), nil
	}
	return append(text, ws...), nil
}

// quotedBreaks skips the indentation and empty lines inside quotes and
// counts the line breaks.
func (s *scanner) quotedBreaks() (int, error) {
	breaks := 0
	for {
		if s.docMarker("---") || s.docMarker("...") {
			return 0, s.errorf("document marker inside a quoted string")
		}
		for s.at(0) == ' ' || s.at(0) == '\t' {
			s.forward(1)
		}
		if s.at(0) != '\n' {
			return breaks, nil
		}
		breaks++
		s.forward(1)
	}
}

// scanBlockScalar reads a literal (|) or folded (>) scalar and its
// header: chomping (+ or -) and an indentation indicator (1-9, relative to
// the enclosing block's indentation), in either order.
func (s *scanner) scanBlockScalar() error {
	t := token{kind: tScalar, line: s.line, col: s.col, endLine: s.line, style: s.at(0)}
	folded := t.style == '>'
	s.forward(1)
	var chomp byte // '+' keeps the final line breaks, '-' strips them
	increment := 0
	if c := s.at(0); c == '+' || c == '-' {
		chomp = c
		s.forward(1)
		if isDigit(s.at(0)) {
			increment = int(s.at(0) - '0')
			s.forward(1)
			if increment == 0 {
				return s.errorf("block scalar indentation indicator must be 1-9, not 0")
			}
		}
	} else if isDigit(c) {
		increment = int(c - '0')
		s.forward(1)
		if increment == 0 {
			return s.errorf("block scalar indentation indicator must be 1-9, not 0")
		}
		if c := s.at(0); c == '+' || c == '-' {
			chomp = c
			s.forward(1)
		}
	}
	if c := s.at(0); c != 0 && c != ' ' && c != '\n' {
		return s.errorf("expected chomping or indentation indicators after %q", t.style)
	}
	for s.at(0) == ' ' {
		s.forward(1)
	}
	if s.at(0) == '#' {
		for !breakz(s.at(0)) {
			s.forward(1)
		}
	}
	if !breakz(s.at(0)) {
		return s.errorf("expected a comment or a line break after %q", t.style)
	}
	s.forward(1)

	minIndent := max(s.indent+1, 1)
	var indent, breaks int
	if increment == 0 {
		// The first non-empty line sets the indentation.
		maxIndent := 0
		for s.at(0) == ' ' || s.at(0) == '\n' {
			if s.at(0) == '\n' {
				breaks++
			}
			s.forward(1)
			maxIndent = max(maxIndent, s.col)
		}
		indent = max(minIndent, maxIndent)
	} else {
		indent = minIndent + increment - 1
		breaks = s.blockBreaks(indent)
	}
	var text []byte
	lineBreak := false
	for s.col == indent && s.at(0) != 0 {
		text = append(text, strings.Repeat("\n", breaks)...)
		leadingNonSpace := s.at(0) != ' ' && s.at(0) != '\t'
		n := 0
		for !breakz(s.at(n)) {
			n++
		}
		text = append(text, s.buf[s.pos:s.pos+n]...)
		s.forward(n)
		t.endLine = s.line
		lineBreak = s.at(0) == '\n'
		if lineBreak {
			s.forward(1)
		}
		breaks = s.blockBreaks(indent)
		if s.col != indent || s.at(0) == 0 {
			break
		}
		if folded && lineBreak && leadingNonSpace && s.at(0) != ' ' && s.at(0) != '\t' {
			if breaks == 0 {
				text = append(text, ' ')
			}
		} else if lineBreak {
			text = append(text, '\n')
		}
	}
	if chomp != '-' && lineBreak {
		text = append(text, '\n')
	}
	if chomp == '+' {
		text = append(text, strings.Repeat("\n", breaks)...)
	}
	t.value = string(text)
	s.tokens = append(s.tokens, t)
	return nil
}

// blockBreaks skips the indentation and empty lines inside a block scalar
// and counts the line breaks.
func (s *scanner) blockBreaks(indent int) int {
	breaks := 0
	for s.col < indent && s.at(0) == ' ' {
		s.forward(1)
	}
	for s.at(0) == '\n' {
		breaks++
		s.forward(1)
		for s.col < indent && s.at(0) == ' ' {
			s.forward(1)
		}
	}
	return breaks
}
