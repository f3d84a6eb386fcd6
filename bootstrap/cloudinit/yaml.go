package cloudinit

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// This file splits a document into its top-level entries; the rest of
// the reader is a port of PyYAML 6.0 (yaml_scan.go, yaml_scalar.go,
// yaml_parse.go, yaml_resolve.go; MIT licence, see LICENSE.PyYAML), the
// YAML library cloud-init itself reads these files with. Entries are read one by one so that
// only those ec2boot uses can fail the document: any other entry that is
// broken or refused is left out. After a syntax error, where the broken
// entry ends is not known, so the rest of the document is read in chunks,
// one per line that may start an entry (see chunks).

// readKey reports whether Load's callers use a top-level key: a broken
// entry under any other key is left out instead of failing the file.
func readKey(k string) bool {
	switch k {
	case "mounts", "manage_etc_hosts", "cloud_init_modules", "cloud_config_modules", "cloud_final_modules":
		return true
	}
	return false
}

// document reads one cloud-config file into its top-level entries.
type document struct {
	buf   []byte
	lines []int          // where each line of buf starts
	bad   map[int]string // lines with characters YAML does not allow
	// badSeen marks the lines of bad inside an entry.
	badSeen map[int]bool
	out     map[string]any
	dropped []leftOut
}

// leftOut is an entry that Parse left out of its map.
type leftOut struct {
	key string // "" if not known
	err error
}

func (l leftOut) String() string { return fmt.Sprintf("%q: %v", l.key, l.err) }

// parseDocument is Parse, also returning the entries it left out.
func parseDocument(data []byte) (map[string]any, []leftOut, error) {
	d := &document{out: map[string]any{}, badSeen: map[int]bool{}}
	d.buf, d.lines, d.bad = prepareYAML(data)
	if err := d.read(); err != nil {
		return nil, d.dropped, err
	}
	// A bad character outside every entry (in a comment, say) fails no
	// entry, but the document is not quite YAML either.
	for l := range len(d.lines) {
		if why, ok := d.bad[l]; ok && !d.badSeen[l] {
			d.dropped = append(d.dropped, leftOut{err: &yamlError{line: l, msgLine: l, msg: why}})
		}
	}
	return d.out, d.dropped, nil
}

// prepareYAML returns data as the scanner reads it: without a leading BOM,
// every line break (CRLF, CR, NEL) a single '\n', and the characters
// PyYAML refuses replaced by '_' if ASCII, their lines noted in bad so
// that the entry holding them fails (PyYAML would fail the whole file).
func prepareYAML(data []byte) (buf []byte, lines []int, bad map[int]string) {
	if len(data) >= 3 && string(data[:3]) == "\uFEFF" {
		data = data[3:]
	}
	buf = make([]byte, 0, len(data))
	lines = []int{0}
	bad = map[int]string{}
	note := func(why string) {
		if _, ok := bad[len(lines)-1]; !ok {
			bad[len(lines)-1] = why
		}
	}
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == '\n' || c == '\r':
			i++
			if c == '\r' && i < len(data) && data[i] == '\n' {
				i++
			}
			buf = append(buf, '\n')
			lines = append(lines, len(buf))
			continue
		case c == '\t' || 0x20 <= c && c < 0x7f:
			buf = append(buf, c)
			i++
			continue
		case c < 0x80:
			note(fmt.Sprintf("control character %U is not allowed in YAML", c))
			buf = append(buf, '_')
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			note("invalid UTF-8")
			buf = append(buf, '_')
		case r == 0x85: // NEL, a line break to YAML 1.1
			buf = append(buf, '\n')
			lines = append(lines, len(buf))
		case r == 0x2028 || r == 0x2029:
			// Line breaks to PyYAML, which keeps them in text: rare enough
			// to refuse rather than follow.
			note(fmt.Sprintf("Unicode line separator %U is not read by ec2boot", r))
			buf = append(buf, data[i:i+size]...)
		case r <= 0x9f || r == 0xfffe || r == 0xffff:
			note(fmt.Sprintf("control character %U is not allowed in YAML", r))
			buf = append(buf, data[i:i+size]...)
		default:
			buf = append(buf, data[i:i+size]...)
		}
		i += size
	}
	return buf, lines, bad
}

// read parses the document. A top-level block mapping is read entry by
// entry; after an entry that breaks the structure, the rest is read in
// chunks, one per line that starts a key at the mapping's column.
func (d *document) read() error {
	p := newParser(newScanner(d.buf, 0, len(d.buf), 0))
	t, err := p.peek()
	if err != nil {
		return d.brokenStart(err)
	}
	explicit := t.kind == tDocStart
	if explicit {
		if _, err := p.take(); err != nil {
			return err
		}
		if t, err = p.peek(); err != nil {
			return d.brokenStart(err)
		}
	}
	switch t.kind {
	case tStreamEnd, tDocStart:
		return d.finish(p, -1)
	case tDocEnd:
		if !explicit { // PyYAML wants a node before '...' unless '---' began the document
			return unexpected(t, "a value")
		}
		return d.finish(p, -1)
	case tBlockMapStart:
		return d.blockEntries(p, t.col)
	case tFlowMapStart:
		return d.flowEntries(p)
	case tAnchor, tAlias, tTag:
		return &yamlError{msgLine: t.line, msg: refusal(t.kind)}
	}
	return errors.New("top level is not a mapping")
}

// brokenStart reads on after a document whose first token is broken, as
// after a broken first entry of a block mapping at that token's column: if
// no entry follows, the document is broken.
func (d *document) brokenStart(err error) error {
	ye := asYAMLError(err)
	if ye.whole {
		return err
	}
	d.dropped = append(d.dropped, leftOut{err: err})
	if err := d.chunks(ye.line+1, ye.col); err != nil {
		return err
	}
	if len(d.out) == 0 {
		return err
	}
	return nil
}

// settle stores a top-level entry read from lines from..to, or leaves it
// out when err is set. A character YAML does not allow on those lines
// fails the entry too, and is the better error. The failure is the
// document's only when the key is one that is read.
func (d *document) settle(key string, known bool, v any, err error, from, to int) error {
	for l := to; l >= from && len(d.bad) > 0; l-- {
		if why, ok := d.bad[l]; ok {
			err = &yamlError{line: l, msgLine: l, msg: why}
			d.badSeen[l] = true
		}
	}
	if err == nil {
		d.out[key] = v
		return nil
	}
	if !known {
		key = ""
	} else if readKey(key) {
		return err
	}
	d.dropped = append(d.dropped, leftOut{key, err})
	return nil
}

// lastLine is the last line of an entry that p has read, or failed at.
func lastLine(p *parser, err error) int {
	if err != nil {
		return max(p.lastLine, asYAMLError(err).msgLine)
	}
	return p.lastLine
}

func (d *document) blockEntries(p *parser, col int) error {
	if _, err := p.take(); err != nil {
		return err
	}
	prev, prevKnown, prevFrom := "", false, 0
	for {
		t, err := p.peek()
		if err == nil && t.kind == tBlockEnd {
			if _, err := p.take(); err != nil {
				return err
			}
			return d.finish(p, col)
		}
		if err == nil && t.kind != tKey {
			err = unexpected(t, "a key at this indentation")
		}
		if err != nil {
			// Between two entries: the error belongs to the previous one if
			// it is on that entry's last line or indented under it.
			ye := asYAMLError(err)
			if prevKnown && (ye.col > col || ye.line <= p.lastLine) {
				delete(d.out, prev)
				if err := d.settle(prev, true, nil, err, prevFrom, lastLine(p, err)); err != nil {
					return err
				}
			} else {
				d.dropped = append(d.dropped, leftOut{err: err})
			}
			return d.chunks(ye.line+1, col)
		}
		from := t.line
		p.refused = nil
		e, syntaxErr := p.blockPair()
		key, known := p.keyOf(e)
		err = syntaxErr
		if err == nil {
			err = nilIfNone(p.refused)
		}
		if err := d.settle(key, known, e.value, err, from, lastLine(p, err)); err != nil {
			return err
		}
		if syntaxErr != nil { // where this entry ends is not known
			return d.chunks(from+1, col)
		}
		prev, prevKnown, prevFrom = key, known, from
	}
}

// nilIfNone turns a nil *yamlError into a nil error.
func nilIfNone(e *yamlError) error {
	if e == nil {
		return nil
	}
	return e
}

// flowEntries reads a top-level flow mapping (JSON, say). A syntax error
// in it is the document's: where its entries end cannot be told.
func (d *document) flowEntries(p *parser) error {
	if err := p.enter(); err != nil {
		return err
	}
	for first := true; ; first = false {
		t, err := p.flowNext(first, tFlowMapEnd)
		if err != nil {
			return err
		}
		if t == nil {
			return d.finish(p, -1)
		}
		from := t.line
		p.refused = nil
		e, err := p.flowPair(tFlowMapEnd)
		if err != nil {
			return err
		}
		key, known := p.keyOf(e)
		if err := d.settle(key, known, e.value, nilIfNone(p.refused), from, p.lastLine); err != nil {
			return err
		}
	}
}

// finish reads what follows the top-level node: nothing, or '...' end
// markers and comments. col is the top-level block mapping's column, -1 if
// there is none.
func (d *document) finish(p *parser, col int) error {
	t, err := p.peek()
	if err == nil && t.kind == tDocEnd {
		for err == nil && t.kind == tDocEnd {
			if _, err = p.take(); err == nil {
				t, err = p.peek()
			}
		}
		switch {
		case err != nil:
			return err
		case t.kind == tStreamEnd:
			return nil
		case t.kind == tDocStart:
			return errSecondDocument(t.line)
		}
		return &yamlError{msgLine: t.line, msg: "content after the document end marker ('...')"}
	}
	if err == nil {
		switch t.kind {
		case tStreamEnd:
			return nil
		case tDocStart:
			return errSecondDocument(t.line)
		}
		err = unexpected(t, "a key at this indentation")
	}
	if col < 0 {
		return err
	}
	// Something less indented than the top-level mapping: leave it out.
	d.dropped = append(d.dropped, leftOut{err: err})
	return d.chunks(asYAMLError(err).line+1, col)
}

// asYAMLError returns err's *yamlError; every error of the scanner and
// the parser is one.
func asYAMLError(err error) *yamlError {
	var ye *yamlError
	if !errors.As(err, &ye) {
		return &yamlError{msg: err.Error()}
	}
	return ye
}

func errSecondDocument(line int) error {
	return &yamlError{msgLine: line, msg: "a second YAML document ('---') is not read by ec2boot"}
}

// Kinds of line for chunks.
const (
	lineKey = iota // may start a key at the mapping's column
	lineDocStart
	lineDocEnd
	lineEOF
)

// nextLine finds the first line from line on that may start a top-level
// entry at col, or a document marker.
func (d *document) nextLine(line, col int) (int, int) {
	for ; line < len(d.lines); line++ {
		text := d.lineText(line)
		switch docMarker(text) {
		case "---":
			return line, lineDocStart
		case "...":
			return line, lineDocEnd
		}
		n := 0
		for n < len(text) && text[n] == ' ' {
			n++
		}
		if n != col || n == len(text) {
			continue
		}
		switch c := text[n]; {
		case c == '#' || c == ']' || c == '}' || c == ',' || c == '\t':
			continue
		case c == '-' && (n+1 == len(text) || blankz(text[n+1])):
			continue // a list entry
		}
		return line, lineKey
	}
	return len(d.lines), lineEOF
}

func (d *document) lineText(line int) []byte {
	end := len(d.buf)
	if line+1 < len(d.lines) {
		end = d.lines[line+1] - 1
	}
	return d.buf[d.lines[line]:end]
}

// chunks reads the entries from line on separately, each from its first
// line to the next that may start an entry, so that one broken entry
// cannot take the rest with it. A value that goes on at the mapping's
// column (a flow list or a quoted string may) is cut short here.
func (d *document) chunks(line, col int) error {
	line, kind := d.nextLine(line, col)
	for kind == lineKey {
		next, nextKind := d.nextLine(line+1, col)
		end := len(d.buf)
		if next < len(d.lines) {
			end = d.lines[next]
		}
		if err := d.chunk(line, end, col); err != nil {
			return err
		}
		line, kind = next, nextKind
	}
	switch kind {
	case lineDocStart:
		return errSecondDocument(line)
	case lineDocEnd:
		// Only comments and more end markers may follow.
		for l := line; l < len(d.lines); l++ {
			text := d.lineText(l)
			switch docMarker(text) {
			case "---":
				return errSecondDocument(l)
			case "...":
				text = text[3:]
			}
			n := 0
			for n < len(text) && text[n] == ' ' {
				n++
			}
			if n < len(text) && text[n] != '#' {
				return &yamlError{msgLine: l, msg: "content after the document end marker ('...')"}
			}
		}
	}
	return nil
}

// docMarker returns "---" or "..." if the line starts with that document
// marker, else "".
func docMarker(line []byte) string {
	if len(line) >= 3 && (len(line) == 3 || blankz(line[3])) {
		if m := string(line[:3]); m == "---" || m == "..." {
			return m
		}
	}
	return ""
}

// chunk reads the entry in buf[d.lines[line]:end].
func (d *document) chunk(line, end, col int) error {
	p := newParser(newScanner(d.buf, d.lines[line], end, line))
	t, err := p.peek()
	if err == nil && (t.kind != tBlockMapStart || t.col != col) {
		err = unexpected(t, "a key")
	}
	if err == nil {
		_, err = p.take()
	}
	if err == nil {
		if t, err = p.peek(); err == nil && t.kind != tKey {
			err = unexpected(t, "a key")
		}
	}
	if err != nil {
		d.dropped = append(d.dropped, leftOut{err: err})
		return nil
	}
	e, err := p.blockPair()
	key, known := p.keyOf(e)
	if err == nil {
		if t, err = p.peek(); err == nil && t.kind != tBlockEnd {
			err = unexpected(t, "a key at this indentation")
		}
	}
	if err == nil {
		err = nilIfNone(p.refused)
	}
	return d.settle(key, known, e.value, err, line, lastLine(p, err))
}
