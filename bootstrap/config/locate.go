package config

import (
	"strconv"
	"strings"
)

// BurntSushi/toml reports positions for syntax and type errors but not for
// keys, so validation finds them here: a small line scanner that knows
// table headers, arrays of tables, dotted and quoted keys, and skips
// multi-line strings and arrays. It only locates; the real parser decides
// what the document means.

type keyPos struct {
	line, col int
	key       string // indexed path, e.g. dns.records[1].name
}

type keyIndex struct {
	exact map[string]keyPos   // indexed path -> position
	bare  map[string][]keyPos // path without indices -> every position
}

func (k keyIndex) all(bare string) []keyPos { return k.bare[bare] }

// indexedAt names the key a syntax error at line stopped after: the parser
// gives it without array indices (dns.records.address), and the other
// messages carry them (dns.records[1].address). It picks the last place
// the key was seen at or before line; bare when it was seen nowhere.
func (k keyIndex) indexedAt(bare string, line int) string {
	out := bare
	for _, p := range k.bare[bare] {
		if p.line <= line {
			out = p.key
		}
	}
	return out
}

func keyPositions(data []byte) keyIndex {
	idx := keyIndex{exact: map[string]keyPos{}, bare: map[string][]keyPos{}}
	arrays := map[string]int{} // bare path of an array of tables -> element count
	var table []string         // current table, bare parts
	var inString string        // `"""` or `'''` while inside a multi-line string
	depth := 0                 // open brackets of a multi-line array value
	for n, line := range strings.Split(string(data), "\n") {
		lineNo := n + 1
		if inString != "" {
			if strings.Count(line, inString)%2 == 1 {
				inString = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketBalance(line)
			continue
		}
		trimmed := strings.TrimLeft(line, " \t")
		col := len(line) - len(trimmed) + 1
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == '\r':
			continue
		case strings.HasPrefix(trimmed, "[["):
			parts := splitKey(strings.TrimSpace(cutHeader(trimmed[2:], "]]")))
			bare := strings.Join(parts, ".")
			arrays[bare]++
			for k := range arrays {
				if strings.HasPrefix(k, bare+".") {
					delete(arrays, k)
				}
			}
			table = parts
			idx.add(indexed(parts, arrays), bare, lineNo, col+2)
		case trimmed[0] == '[':
			parts := splitKey(strings.TrimSpace(cutHeader(trimmed[1:], "]")))
			table = parts
			idx.add(indexed(parts, arrays), strings.Join(parts, "."), lineNo, col+1)
		default:
			eq := indexOutsideQuotes(trimmed, '=')
			if eq < 0 {
				continue
			}
			parts := append(append([]string{}, table...), splitKey(strings.TrimSpace(trimmed[:eq]))...)
			idx.add(indexed(parts, arrays), strings.Join(parts, "."), lineNo, col)
			value := strings.TrimSpace(trimmed[eq+1:])
			for _, q := range []string{`"""`, `'''`} {
				if strings.HasPrefix(value, q) && strings.Count(value, q)%2 == 1 {
					inString = q
				}
			}
			if inString == "" && strings.HasPrefix(value, "[") {
				depth = bracketBalance(value)
			}
		}
	}
	return idx
}

func (k keyIndex) add(indexedKey, bare string, line, col int) {
	p := keyPos{line: line, col: col, key: indexedKey}
	if _, seen := k.exact[indexedKey]; !seen {
		k.exact[indexedKey] = p
	}
	k.bare[bare] = append(k.bare[bare], p)
}

// indexed renders parts as a path, adding the current element index after
// every prefix that is an array of tables.
func indexed(parts []string, arrays map[string]int) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
		if n, ok := arrays[strings.Join(parts[:i+1], ".")]; ok {
			b.WriteString("[" + strconv.Itoa(n-1) + "]")
		}
	}
	return b.String()
}

func cutHeader(s, closing string) string {
	if i := indexOutsideQuotes(s, closing[0]); i >= 0 {
		return s[:i]
	}
	return s
}

// splitKey splits a dotted key, honouring "quoted" and 'literal' parts.
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

func indexOutsideQuotes(s string, target byte) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return -1
		case c == target:
			return i
		}
	}
	return -1
}

// bracketBalance counts [ minus ] outside strings and comments.
func bracketBalance(s string) int {
	n := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return n
		case c == '[':
			n++
		case c == ']':
			n--
		}
	}
	return n
}
