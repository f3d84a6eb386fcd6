package cloudinit

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// TestParseMatchesPyYAMLRandom compares Parse with PyYAML on generated
// documents, the same ones every run (a fixed seed): every mapping PyYAML
// reads, Parse must read the same, bar refused constructs.
func TestParseMatchesPyYAMLRandom(t *testing.T) {
	python := pythonYAML()
	if python == "" {
		testenv.Missing(t, "no python3 with the yaml module (PyYAML): apt-get install python3-yaml")
	}
	g := newDocGen(1)
	var docs [][]byte
	for range 5000 {
		docs = append(docs, g.lineSoup(), g.mutatedDocument())
	}
	results := safeLoad(t, python, docs)
	read, failures := 0, 0
	for i, res := range results {
		theirs, ok := res.OK.(map[string]any)
		if res.Err != nil || !ok || res.Kind != "dict" {
			continue
		}
		read++
		ours, dropped, err := parseDocument(docs[i])
		if err != nil {
			if !strings.Contains(err.Error(), "are not read by ec2boot") {
				t.Errorf("%q: PyYAML reads it, Parse fails: %v", docs[i], err)
				failures++
			}
			continue
		}
		for k, v := range ours {
			if diff := cmp.Diff(withDates(theirs[k], v), jsonish(v)); diff != "" && !leftOutKey(dropped, k) {
				t.Errorf("%q: key %q differs (-PyYAML +Parse):\n%s", docs[i], k, diff)
				failures++
			}
		}
		if len(dropped) == 0 && len(ours) != len(theirs) {
			t.Errorf("%q: PyYAML reads %d keys, Parse %d", docs[i], len(theirs), len(ours))
			failures++
		}
		if failures > 20 {
			t.Fatal("too many failures")
		}
	}
	t.Logf("%d of %d documents are mappings to PyYAML", read, len(docs))
}

// leftOutKey reports whether an entry for key was left out: a later one
// may then have set PyYAML's value.
func leftOutKey(dropped []leftOut, key string) bool {
	for _, l := range dropped {
		if l.key == key {
			return true
		}
	}
	return false
}

func pick[T any](r *rand.Rand, choices ...T) T { return choices[r.IntN(len(choices))] }

// docGen generates YAML-ish documents.
type docGen struct {
	r *rand.Rand
	// Not both 1 and yes among the keys, nor 0 and no: to Python's dict
	// they are the same key.
	keys, scalars []string
}

func newDocGen(seed uint64) *docGen {
	return &docGen{
		r: rand.New(rand.NewPCG(seed, 2)),
		keys: []string{"a", "b", "c", "mounts", "x y", "'q'", `"d"`, "2", "yes", "~", "k:v", "-k", "runcmd",
			"? ck", "&a k", "!t k", "2001-01-01"},
		scalars: []string{"v", "a b", "x:y", "x#y", "7", "0755", "0x1F", "1:20", "1.5", "-1.5e+3", "1e3", "yes", "No",
			"~", "null", "", "-", "-x", "?x", ":x", "'s'", "'it''s'", `"d"`, `"a\tb\n"`, `"\x41\u00e9"`, "'a\n\n b'",
			"\"a\n  b\"", "\"a \\\n  b\"", "http://h/p?q=1#f", "2001-12-14", ".inf", ".nan", "=", "<<", "&a x", "*a",
			"!t x", "é", "x # c"},
	}
}

func (g *docGen) key() string    { return pick(g.r, g.keys...) }
func (g *docGen) scalar() string { return pick(g.r, g.scalars...) }

// lineSoup strings together lines of YAML-ish fragments at random
// indentations.
func (g *docGen) lineSoup() []byte {
	r := g.r
	values := append([]string{"[a, b]", "[ a , [b] ]", "{a: b}", "{a, b: }", "[a: b]", "[]", "{}", "[a,\n b]",
		"p1\n  p2", "|\n  t1\n   t2\n\n  t3", ">\n  f1\n  f2\n\n  f3", "|-\n  s", "|+\n  k\n\n", ">2\n   i\n  j",
		"? c", "\tv", "- v", "[a, {b: [c]}]"}, g.scalars...)
	var b strings.Builder
	for range 1 + r.IntN(8) {
		indent := pick(r, 0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 6)
		b.WriteString(strings.Repeat(" ", indent))
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			b.WriteString(g.key() + ":")
			if v := pick(r, values...); v != "" && r.IntN(4) > 0 {
				b.WriteString(" " + strings.ReplaceAll(v, "\n", "\n"+strings.Repeat(" ", indent)))
			}
		case 4, 5:
			b.WriteString("- ")
			if r.IntN(2) == 0 {
				b.WriteString(g.key() + ": ")
			}
			b.WriteString(strings.ReplaceAll(pick(r, values...), "\n", "\n"+strings.Repeat(" ", indent+2)))
		case 6:
			b.WriteString("# comment")
		case 7:
			b.WriteString(pick(r, values...))
		case 8:
			b.WriteString(g.key() + ":")
		case 9:
			b.WriteString(pick(r, "---", "...", "-", "]", "}", ",", ":", " ", "\t", "- - a", "? a", ": b", "a: b: c"))
		}
		b.WriteString(pick(r, "\n", "\n", "\n", "\r\n", " \n", " # c\n", "\n\n"))
	}
	return []byte(b.String())
}

// mutatedDocument builds a cloud-config-like document of nested block and
// flow collections, then maybe inserts or deletes a few characters.
func (g *docGen) mutatedDocument() []byte {
	r := g.r
	var b strings.Builder
	if r.IntN(5) == 0 {
		b.WriteString("#cloud-config\n")
	}
	top := pick(r, 0, 0, 0, 2)
	for range 1 + r.IntN(5) {
		b.WriteString(strings.Repeat(" ", top) + g.key() + ":" + g.value(top, 0))
		b.WriteString(pick(r, "\n", "\n", " # c\n", "\n\n", "\r\n"))
	}
	doc := []byte(b.String())
	const inserts = " \t\n:-#[]{},'\"|>?&*!%@`\\x"
	for range r.IntN(3) {
		if len(doc) == 0 {
			break
		}
		i := r.IntN(len(doc))
		if r.IntN(3) == 0 {
			doc = append(doc[:i], doc[i+1:]...)
		} else {
			doc = append(doc[:i], append([]byte{inserts[r.IntN(len(inserts))]}, doc[i:]...)...)
		}
	}
	return doc
}

// value returns what follows "key:" for a key indented by ind.
func (g *docGen) value(ind, depth int) string {
	r := g.r
	pad := func(n int) string { return strings.Repeat(" ", max(n, 0)) }
	step := pick(r, 1, 2, 2, 2, 3, 4)
	choice := r.IntN(9)
	if depth > 3 {
		choice = r.IntN(3)
	}
	var b strings.Builder
	switch choice {
	case 0, 1:
		return " " + strings.ReplaceAll(g.scalar(), "\n", "\n"+pad(ind+step))
	case 2:
		return " " + g.flow(ind+step, depth)
	case 3, 4: // a mapping
		for range 1 + r.IntN(3) {
			b.WriteString("\n" + pad(ind+step) + g.key() + ":" + g.value(ind+step, depth+1))
		}
	case 5, 6: // a list, maybe at the key's column
		if r.IntN(2) == 0 {
			step = 0
		}
		for range 1 + r.IntN(3) {
			b.WriteString("\n" + pad(ind+step) + "-")
			if r.IntN(3) > 0 {
				b.WriteString(g.value(ind+step, depth+1))
				continue
			}
			b.WriteString(" " + g.key() + ":" + g.value(ind+step+2, depth+1))
			if r.IntN(2) == 0 {
				b.WriteString("\n" + pad(ind+step+2) + g.key() + ":" + g.value(ind+step+2, depth+1))
			}
		}
	default: // a block scalar, its lines more or less indented
		b.WriteString(" " + pick(r, "|", ">", "|-", ">+", "|2", ">-1", "|+", "| # c"))
		for range 1 + r.IntN(4) {
			if r.IntN(8) == 0 {
				b.WriteString("\n" + pad(r.IntN(ind+step+3)))
				continue
			}
			b.WriteString("\n" + pad(ind+step+pick(r, 0, 0, 0, 1, 2, -1)) +
				pick(r, "text", "key: value", "- x", "mounts: []", "# not a comment", "  deep", "\tt"))
		}
	}
	return b.String()
}

// flow returns a flow list or mapping that may span lines.
func (g *docGen) flow(ind, depth int) string {
	r := g.r
	var b strings.Builder
	for i := range r.IntN(4) {
		if i > 0 {
			b.WriteString(pick(r, ", ", ",", " , ", ",\n"+strings.Repeat(" ", r.IntN(ind+2)), ", # c\n  "))
		}
		switch r.IntN(5) {
		case 0:
			if depth < 5 {
				b.WriteString(g.flow(ind, depth+1))
				break
			}
			fallthrough
		case 1:
			b.WriteString(g.key() + ": " + g.scalar())
		default:
			b.WriteString(g.scalar())
		}
	}
	if r.IntN(2) == 0 {
		return "[" + b.String() + "]"
	}
	return "{" + b.String() + "}"
}
