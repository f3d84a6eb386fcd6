package cloudinit

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file is a Go port of PyYAML's scanner (yaml/scanner.py, 6.0), the
// one cloud-init reads its configuration with: the token rules below,
// including the "simple key" bookkeeping that decides where a mapping
// starts, are PyYAML's, so that a document reads here as it reads there.
// What differs: the input is already cleaned by prepareYAML (every line
// break is '\n', no NUL), anchors, aliases and tags are scanned only so
// that the parser can refuse them, and directives are refused outright.

// maxDepth bounds the nesting of collections, flow and block alike.
const maxDepth = 100

// maxSimpleKey is YAML's limit on an implicit key, in characters.
const maxSimpleKey = 1024

type tokenKind uint8

const (
	tStreamEnd tokenKind = iota + 1
	tDocStart
	tDocEnd
	tBlockSeqStart
	tBlockMapStart
	tBlockEnd
	tFlowSeqStart
	tFlowMapStart
	tFlowSeqEnd
	tFlowMapEnd
	tBlockEntry
	tFlowEntry
	tKey
	tValue
	tAlias
	tAnchor
	tTag
	tScalar
)

func (k tokenKind) String() string {
	return [...]string{
		tStreamEnd: "the end of the file", tDocStart: "'---'", tDocEnd: "'...'",
		tBlockSeqStart: "'-'", tBlockEntry: "'-'", tBlockMapStart: "a mapping", tBlockEnd: "a lower indentation",
		tFlowSeqStart: "'['", tFlowMapStart: "'{'", tFlowSeqEnd: "']'", tFlowMapEnd: "'}'", tFlowEntry: "','",
		tKey: "a key", tValue: "':'", tAlias: "an alias", tAnchor: "an anchor", tTag: "a tag", tScalar: "a scalar",
	}[k]
}

type token struct {
	kind      tokenKind
	line, col int // where it starts; lines count from 0
	endLine   int // the line of its last character
	value     string
	style     byte // scalars: 0 for plain, or one of ' " | >
	explicit  bool // a tKey from the '?' indicator
}

// yamlError is an error at a line of the document. line and col say which
// token it belongs to, so that a failure can be charged to the right
// top-level entry; msgLine is where the problem was found.
type yamlError struct {
	line, col int
	msgLine   int
	msg       string
	whole     bool // the document's, whatever entry it is in
}

func (e *yamlError) Error() string { return fmt.Sprintf("line %d: %s", e.msgLine+1, e.msg) }

// simpleKey is a token that may turn out to be an implicit mapping key,
// once a ':' follows it on the same line. There is at most one per flow
// level.
type simpleKey struct {
	level            int
	required         bool
	tokenNumber      int
	index, line, col int
}

type scanner struct {
	buf       []byte
	pos, end  int
	line, col int // col counts characters, as PyYAML's does
	index     int // characters read, for maxSimpleKey

	// tokLine and tokCol are where the token being fetched starts.
	tokLine, tokCol int

	flowLevel      int
	tokens         []token // the queue is tokens[head:]
	head           int
	taken          int // tokens handed to the parser
	indent         int
	indents        []int
	allowSimpleKey bool
	// keys holds the possible simple keys by flow level, the deepest
	// last. A level's key goes when the level closes, so a deeper key is
	// always a later one: the keys are also in token order, the first to
	// go stale first.
	keys []simpleKey
	done bool
}

// newScanner reads buf[start:end], start being the beginning of line.
func newScanner(buf []byte, start, end, line int) *scanner {
	return &scanner{buf: buf, pos: start, end: end, line: line, indent: -1, allowSimpleKey: true}
}

func (s *scanner) errorf(format string, args ...any) *yamlError {
	return &yamlError{line: s.tokLine, col: s.tokCol, msgLine: s.line, msg: fmt.Sprintf(format, args...)}
}

// at returns the byte n ahead, 0 past the end.
func (s *scanner) at(n int) byte {
	if s.pos+n < s.end {
		return s.buf[s.pos+n]
	}
	return 0
}

func (s *scanner) forward(n int) {
	for ; n > 0 && s.pos < s.end; n-- {
		b := s.buf[s.pos]
		s.pos++
		switch {
		case b == '\n':
			s.line++
			s.col = 0
			s.index++
		case b&0xC0 != 0x80: // not a UTF-8 continuation byte
			s.col++
			s.index++
		}
	}
}

// blankz is PyYAML's '\0 \t\r\n' class (after prepareYAML, '\0' only ends
// the input and '\n' is the only line break).
func blankz(b byte) bool { return b == 0 || b == ' ' || b == '\t' || b == '\n' }

func breakz(b byte) bool { return b == 0 || b == '\n' }

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isWordChar(b byte) bool {
	return isDigit(b) || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '-' || b == '_'
}

func isHex(b byte) bool { return isDigit(b) || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' }

// peek returns the next token without taking it.
func (s *scanner) peek() (*token, error) {
	if err := s.fill(); err != nil {
		return nil, err
	}
	return &s.tokens[s.head], nil
}

// next takes the next token.
func (s *scanner) next() (token, error) {
	if err := s.fill(); err != nil {
		return token{}, err
	}
	t := s.tokens[s.head]
	if t.kind != tStreamEnd { // the end stays for whoever asks again
		if s.head++; s.head == len(s.tokens) {
			s.tokens, s.head = s.tokens[:0], 0
		}
		s.taken++
	}
	return t, nil
}

// fill fetches tokens until the first one is known: PyYAML's
// need_more_tokens loop.
func (s *scanner) fill() error {
	for !s.done {
		if s.head < len(s.tokens) {
			if err := s.staleKeys(); err != nil {
				return err
			}
			if !s.keyAtHead() {
				return nil
			}
		}
		if err := s.fetchMore(); err != nil {
			return err
		}
	}
	return nil
}

// keyAtHead reports whether the first queued token may still become a
// simple key, in which case what follows it must be scanned first.
func (s *scanner) keyAtHead() bool {
	return len(s.keys) > 0 && s.keys[0].tokenNumber == s.taken
}

// fetchMore scans the next token (and the block ends or mapping start
// that go before it).
func (s *scanner) fetchMore() error {
	s.skipToToken()
	s.tokLine, s.tokCol = s.line, s.col
	if err := s.staleKeys(); err != nil {
		return err
	}
	if s.head < len(s.tokens) && !s.keyAtHead() {
		// Unlike PyYAML, stop here: the queued token is complete, and
		// scanning on would read into the next line (the next top-level
		// entry, maybe) before the parser is done with this one, charging
		// that line's errors to it.
		return nil
	}
	s.unwindIndent(s.col)
	ch := s.at(0)
	switch {
	case ch == 0:
		s.unwindIndent(-1)
		if err := s.removeKey(); err != nil {
			return err
		}
		s.allowSimpleKey = false
		s.keys = nil
		s.push(tStreamEnd)
		s.done = true
		return nil
	case ch == '%' && s.col == 0:
		err := s.errorf("YAML directives (%%YAML, %%TAG) are not read by ec2boot")
		err.whole = true
		return err
	case ch == '-' && s.docMarker("---"):
		return s.fetchDocIndicator(tDocStart)
	case ch == '.' && s.docMarker("..."):
		return s.fetchDocIndicator(tDocEnd)
	case ch == '[' || ch == '{':
		if s.flowLevel >= maxDepth {
			return s.errorf("nested deeper than %d levels", maxDepth)
		}
		if err := s.saveKey(); err != nil {
			return err
		}
		s.flowLevel++
		s.allowSimpleKey = true
		if ch == '[' {
			s.forwardPush(tFlowSeqStart)
		} else {
			s.forwardPush(tFlowMapStart)
		}
	case ch == ']' || ch == '}':
		if err := s.removeKey(); err != nil {
			return err
		}
		if s.flowLevel > 0 {
			s.flowLevel--
		}
		s.allowSimpleKey = false
		if ch == ']' {
			s.forwardPush(tFlowSeqEnd)
		} else {
			s.forwardPush(tFlowMapEnd)
		}
	case ch == ',':
		s.allowSimpleKey = true
		if err := s.removeKey(); err != nil {
			return err
		}
		s.forwardPush(tFlowEntry)
	case ch == '-' && blankz(s.at(1)):
		if s.flowLevel == 0 {
			if !s.allowSimpleKey {
				return s.errorf("sequence entries are not allowed here")
			}
			if s.addIndent(s.col) {
				s.push(tBlockSeqStart)
			}
		}
		s.allowSimpleKey = true
		if err := s.removeKey(); err != nil {
			return err
		}
		s.forwardPush(tBlockEntry)
	case ch == '?' && (s.flowLevel > 0 || blankz(s.at(1))):
		return s.fetchKey()
	case ch == ':' && (s.flowLevel > 0 || blankz(s.at(1))):
		return s.fetchValue()
	case ch == '*' || ch == '&':
		return s.fetchAnchor()
	case ch == '!':
		if err := s.saveKey(); err != nil {
			return err
		}
		s.allowSimpleKey = false
		s.scanTag()
	case (ch == '|' || ch == '>') && s.flowLevel == 0:
		s.allowSimpleKey = true
		if err := s.removeKey(); err != nil {
			return err
		}
		return s.scanBlockScalar()
	case ch == '\'' || ch == '"':
		if err := s.saveKey(); err != nil {
			return err
		}
		s.allowSimpleKey = false
		return s.scanQuoted()
	case s.plainStart():
		if err := s.saveKey(); err != nil {
			return err
		}
		s.allowSimpleKey = false
		s.scanPlain()
	case ch == '\t':
		return s.errorf("tab character: YAML allows only spaces for indentation and between tokens")
	default:
		r, _ := utf8.DecodeRune(s.buf[s.pos:s.end])
		return s.errorf("found character %q that cannot start any token", r)
	}
	return nil
}

func (s *scanner) push(k tokenKind) {
	s.tokens = append(s.tokens, token{kind: k, line: s.line, col: s.col, endLine: s.line})
}

// forwardPush adds a one-character token.
func (s *scanner) forwardPush(k tokenKind) {
	s.push(k)
	s.forward(1)
}

// docMarker reports whether m ("---" or "...") starts a line here.
func (s *scanner) docMarker(m string) bool {
	return s.col == 0 && s.pos+3 <= s.end && string(s.buf[s.pos:s.pos+3]) == m && blankz(s.at(3))
}

func (s *scanner) fetchDocIndicator(k tokenKind) error {
	s.unwindIndent(-1)
	if err := s.removeKey(); err != nil {
		return err
	}
	s.allowSimpleKey = false
	s.push(k)
	s.forward(3)
	return nil
}

// fetchKey reads an explicit "? " key, which the parser refuses.
func (s *scanner) fetchKey() error {
	if s.flowLevel == 0 {
		if !s.allowSimpleKey {
			return s.errorf("mapping keys are not allowed here")
		}
		if s.addIndent(s.col) {
			s.push(tBlockMapStart)
		}
	}
	s.allowSimpleKey = s.flowLevel == 0
	if err := s.removeKey(); err != nil {
		return err
	}
	s.push(tKey)
	s.tokens[len(s.tokens)-1].explicit = true
	s.forward(1)
	return nil
}

// fetchValue reads ':', which makes the possible simple key before it a
// key.
func (s *scanner) fetchValue() error {
	if k, ok := s.currentKey(); ok {
		// The saved token was a key after all: put KEY (and, for a new
		// block mapping, its start) in front of it.
		s.keys = s.keys[:len(s.keys)-1]
		at := s.head + k.tokenNumber - s.taken
		ins := []token{{kind: tKey, line: k.line, col: k.col, endLine: k.line}}
		if s.flowLevel == 0 && s.addIndent(k.col) {
			ins = append([]token{{kind: tBlockMapStart, line: k.line, col: k.col, endLine: k.line}}, ins...)
		}
		s.tokens = append(s.tokens[:at], append(ins, s.tokens[at:]...)...)
		s.allowSimpleKey = false
	} else {
		if s.flowLevel == 0 {
			if !s.allowSimpleKey {
				return s.errorf("mapping values are not allowed here")
			}
			if s.addIndent(s.col) {
				s.push(tBlockMapStart)
			}
		}
		s.allowSimpleKey = s.flowLevel == 0
		if err := s.removeKey(); err != nil {
			return err
		}
	}
	s.forwardPush(tValue)
	return nil
}

// fetchAnchor reads &name or *name, which the parser refuses.
func (s *scanner) fetchAnchor() error {
	if err := s.saveKey(); err != nil {
		return err
	}
	s.allowSimpleKey = false
	k := tAnchor
	if s.at(0) == '*' {
		k = tAlias
	}
	s.push(k)
	s.forward(1)
	n := 0
	for isWordChar(s.at(n)) {
		n++
	}
	if n == 0 || !(blankz(s.at(n)) || strings.IndexByte("?:,]}%@`", s.at(n)) >= 0) {
		s.forward(n)
		return s.errorf("expected an alphanumeric anchor or alias name")
	}
	s.forward(n)
	return nil
}

// scanTag skips a tag such as !!str or !<tag:x>: the parser refuses it.
func (s *scanner) scanTag() {
	s.push(tTag)
	for !blankz(s.at(0)) {
		s.forward(1)
	}
}

// skipToToken skips spaces, comments and line breaks (not tabs: PyYAML
// refuses them there).
func (s *scanner) skipToToken() {
	for {
		for s.at(0) == ' ' {
			s.forward(1)
		}
		if s.at(0) == '#' {
			for !breakz(s.at(0)) {
				s.forward(1)
			}
		}
		if s.at(0) != '\n' {
			return
		}
		s.forward(1)
		if s.flowLevel == 0 {
			s.allowSimpleKey = true
		}
	}
}

// staleKeys drops the possible simple keys that can no longer be keys: a
// key must end on its line, within maxSimpleKey characters. A key that
// must be one (a line at its mapping's indentation) is an error.
func (s *scanner) staleKeys() error {
	for len(s.keys) > 0 {
		k := s.keys[0]
		if k.line == s.line && s.index-k.index <= maxSimpleKey {
			return nil // and so are the later keys
		}
		if k.required {
			return &yamlError{line: k.line, col: k.col, msgLine: k.line, msg: "could not find expected ':' after a key"}
		}
		s.keys = s.keys[1:]
	}
	return nil
}

// saveKey notes that the token about to be scanned may be a simple key.
func (s *scanner) saveKey() error {
	required := s.flowLevel == 0 && s.indent == s.col
	if !s.allowSimpleKey {
		return nil
	}
	if err := s.removeKey(); err != nil {
		return err
	}
	s.keys = append(s.keys, simpleKey{level: s.flowLevel, required: required, tokenNumber: s.taken + len(s.tokens) - s.head, index: s.index, line: s.line, col: s.col})
	return nil
}

// removeKey drops the current flow level's possible simple key.
func (s *scanner) removeKey() error {
	if k, ok := s.currentKey(); ok {
		if k.required {
			return &yamlError{line: k.line, col: k.col, msgLine: k.line, msg: "could not find expected ':' after a key"}
		}
		s.keys = s.keys[:len(s.keys)-1]
	}
	return nil
}

// currentKey returns the possible simple key of the current flow level.
func (s *scanner) currentKey() (simpleKey, bool) {
	if n := len(s.keys); n > 0 && s.keys[n-1].level == s.flowLevel {
		return s.keys[n-1], true
	}
	return simpleKey{}, false
}

// unwindIndent ends the block collections indented more than col.
func (s *scanner) unwindIndent(col int) {
	if s.flowLevel > 0 {
		return
	}
	for s.indent > col {
		s.indent = s.indents[len(s.indents)-1]
		s.indents = s.indents[:len(s.indents)-1]
		s.push(tBlockEnd)
	}
}

// addIndent starts a block collection at col if it is indented more than
// the current one.
func (s *scanner) addIndent(col int) bool {
	if s.indent < col {
		s.indents = append(s.indents, s.indent)
		s.indent = col
		return true
	}
	return false
}
