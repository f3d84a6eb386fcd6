package cloudinit

import "fmt"

// The parser turns the scanner's tokens into values the way PyYAML's
// parser, composer and SafeConstructor do together: mappings become
// map[string]any, sequences []any, and scalars nil, bool, int, float64 or
// string. Constructs ec2boot does not read (anchors, aliases, tags,
// complex keys, merge keys) are parsed past but recorded in refused, so
// that only the top-level entry holding them fails.

type parser struct {
	s     *scanner
	depth int
	// refused is the first construct refused in the current top-level
	// entry.
	refused *yamlError
	// lastLine is the line where the last token taken ends.
	lastLine int
}

func newParser(s *scanner) *parser { return &parser{s: s, lastLine: s.line} }

func (p *parser) peek() (*token, error) { return p.s.peek() }

func (p *parser) take() (token, error) {
	t, err := p.s.next()
	if err == nil && t.kind != tBlockEnd { // a block end is found on the next line
		p.lastLine = max(p.lastLine, t.endLine)
	}
	return t, err
}

// peekIs reports whether the next token is one of kinds.
func (p *parser) peekIs(kinds ...tokenKind) (bool, error) {
	t, err := p.peek()
	if err != nil {
		return false, err
	}
	for _, k := range kinds {
		if t.kind == k {
			return true, nil
		}
	}
	return false, nil
}

func (p *parser) refuse(t token, what string) {
	if p.refused == nil {
		p.refused = &yamlError{line: t.line, col: t.col, msgLine: t.line, msg: what}
	}
}

func unexpected(t *token, want string) error {
	return &yamlError{line: t.line, col: t.col, msgLine: t.line, msg: fmt.Sprintf("expected %s, found %s", want, t.kind)}
}

// refusal says why a token kind is refused, "" if it is not.
func refusal(k tokenKind) string {
	switch k {
	case tAnchor:
		return "YAML anchors (&name) are not read by ec2boot"
	case tAlias:
		return "YAML aliases (*name) are not read by ec2boot"
	case tTag:
		return "YAML tags (!tag) are not read by ec2boot"
	}
	return ""
}

type nodeContext uint8

const (
	inBlock      nodeContext = 1 << iota // block collections may start here
	indentlessOK                         // so may a "- " list at its key's column
	isKey                                // the node is a mapping key
)

func (p *parser) node(ctx nodeContext) (any, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tAlias {
		p.refuse(*t, refusal(tAlias))
		_, err := p.take()
		return nil, err
	}
	// An anchor and a tag (PyYAML allows one of each, in either order).
	props := false
	for t.kind == tAnchor || t.kind == tTag {
		props = true
		p.refuse(*t, refusal(t.kind))
		if _, err := p.take(); err != nil {
			return nil, err
		}
		if t, err = p.peek(); err != nil {
			return nil, err
		}
	}
	switch {
	case ctx&indentlessOK != 0 && t.kind == tBlockEntry:
		return p.indentlessSeq()
	case t.kind == tScalar:
		tok, err := p.take()
		if err != nil || tok.style != 0 || props {
			return tok.value, err
		}
		v, why := resolvePlain(tok.value, ctx&isKey != 0)
		if why != "" {
			p.refuse(tok, why)
		}
		return v, nil
	case t.kind == tFlowSeqStart:
		return p.flowSeq()
	case t.kind == tFlowMapStart:
		return p.flowMap()
	case ctx&inBlock != 0 && t.kind == tBlockSeqStart:
		return p.blockSeq()
	case ctx&inBlock != 0 && t.kind == tBlockMapStart:
		return p.blockMap()
	case props: // "&a" or "!t" alone is an empty scalar
		return nil, nil
	}
	return nil, unexpected(t, "a value")
}

// enter takes the token that opens a collection, counting the depth.
func (p *parser) enter() error {
	t, err := p.take()
	if err != nil {
		return err
	}
	if p.depth++; p.depth > maxDepth {
		return tooDeep(&t)
	}
	return nil
}

func tooDeep(t *token) error {
	return &yamlError{line: t.line, col: t.col, msgLine: t.line, msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
}

// pair is one mapping entry as read.
type pair struct {
	at     token // where the entry starts
	key    any
	hasKey bool // the key was read (it may still be refused)
	value  any
}

// keyOf is the entry's key as a map key; false when it has none.
func (p *parser) keyOf(e pair) (string, bool) {
	if !e.hasKey {
		return "", false
	}
	k, ok := keyString(e.key)
	if !ok {
		p.refuse(e.at, "a list or mapping as a mapping key is not read by ec2boot")
	}
	return k, ok
}

func (p *parser) set(m map[string]any, e pair) {
	if k, ok := p.keyOf(e); ok {
		m[k] = e.value // a repeated key replaces the earlier one, as in PyYAML
	}
}

// blockPair reads "key: value" in a block mapping, the KEY token next.
func (p *parser) blockPair() (e pair, err error) {
	if e.at, err = p.take(); err != nil {
		return e, err
	}
	if e.at.explicit {
		p.refuse(e.at, "complex keys ('? ') are not read by ec2boot")
	}
	empty, err := p.peekIs(tKey, tValue, tBlockEnd)
	if err != nil {
		return e, err
	}
	if !empty {
		if e.key, err = p.node(inBlock | indentlessOK | isKey); err != nil {
			return e, err
		}
	}
	e.hasKey = true
	if ok, err := p.peekIs(tValue); err != nil || !ok {
		return e, err
	}
	if _, err := p.take(); err != nil {
		return e, err
	}
	if empty, err = p.peekIs(tKey, tValue, tBlockEnd); err != nil || empty {
		return e, err
	}
	e.value, err = p.node(inBlock | indentlessOK)
	return e, err
}

// flowPair reads "key: value", "key" or "key:" in a flow mapping, or the
// single pair of a "[key: value]" sequence entry; end is the closing token.
func (p *parser) flowPair(end tokenKind) (e pair, err error) {
	t, err := p.peek()
	if err != nil {
		return e, err
	}
	e.at = *t
	if t.kind != tKey {
		e.key, err = p.node(isKey)
		e.hasKey = err == nil
		return e, err
	}
	if _, err := p.take(); err != nil {
		return e, err
	}
	if e.at.explicit {
		p.refuse(e.at, "complex keys ('? ') are not read by ec2boot")
	}
	empty, err := p.peekIs(tValue, tFlowEntry, end)
	if err != nil {
		return e, err
	}
	if !empty {
		if e.key, err = p.node(isKey); err != nil {
			return e, err
		}
	}
	e.hasKey = true
	if ok, err := p.peekIs(tValue); err != nil || !ok {
		return e, err
	}
	if _, err := p.take(); err != nil {
		return e, err
	}
	if empty, err = p.peekIs(tFlowEntry, end); err != nil || empty {
		return e, err
	}
	e.value, err = p.node(0)
	return e, err
}

func (p *parser) blockMap() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	m := map[string]any{}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tBlockEnd:
			_, err := p.take()
			return m, err
		case tKey:
			e, err := p.blockPair()
			if err != nil {
				return nil, err
			}
			p.set(m, e)
		default:
			return nil, unexpected(t, "a key at this indentation")
		}
	}
}

func (p *parser) blockSeq() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l := []any{}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tBlockEnd:
			_, err := p.take()
			return l, err
		case tBlockEntry:
			v, err := p.seqEntry(tBlockEntry, tBlockEnd)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		default:
			return nil, unexpected(t, "'- ' at this indentation")
		}
	}
}

// indentlessSeq reads a list whose "- " is at its key's column: it has no
// start or end token of its own.
func (p *parser) indentlessSeq() (any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		return nil, tooDeep(t)
	}
	l := []any{}
	for {
		if ok, err := p.peekIs(tBlockEntry); err != nil || !ok {
			return l, err
		}
		v, err := p.seqEntry(tBlockEntry, tKey, tValue, tBlockEnd)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
}

// seqEntry reads "- value"; the entry is empty when one of ends follows.
func (p *parser) seqEntry(ends ...tokenKind) (any, error) {
	if _, err := p.take(); err != nil {
		return nil, err
	}
	if empty, err := p.peekIs(ends...); err != nil || empty {
		return nil, err
	}
	return p.node(inBlock)
}

func (p *parser) flowSeq() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l := []any{}
	for first := true; ; first = false {
		t, err := p.flowNext(first, tFlowSeqEnd)
		if t == nil || err != nil {
			return l, err
		}
		if t.kind == tKey {
			e, err := p.flowPair(tFlowSeqEnd)
			if err != nil {
				return nil, err
			}
			m := map[string]any{}
			p.set(m, e)
			l = append(l, m)
			continue
		}
		v, err := p.node(0)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
}

func (p *parser) flowMap() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	m := map[string]any{}
	for first := true; ; first = false {
		t, err := p.flowNext(first, tFlowMapEnd)
		if t == nil || err != nil {
			return m, err
		}
		e, err := p.flowPair(tFlowMapEnd)
		if err != nil {
			return nil, err
		}
		p.set(m, e)
	}
}

// flowNext moves to the next entry of a flow collection, past the ','
// that must separate it from the previous one, and returns its first
// token; nil when the collection ends (its end token taken).
func (p *parser) flowNext(first bool, end tokenKind) (*token, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if !first && t.kind != end {
		if t.kind != tFlowEntry {
			return nil, unexpected(t, fmt.Sprintf("',' or %s", end))
		}
		if _, err := p.take(); err != nil {
			return nil, err
		}
		if t, err = p.peek(); err != nil {
			return nil, err
		}
	}
	if t.kind == end {
		_, err := p.take()
		return nil, err
	}
	return t, nil
}
