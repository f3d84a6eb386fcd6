// Package diff renders unified diffs of text files for `ec2boot plan`.
package diff

import (
	"bytes"
	"fmt"
	"strings"
)

// Context is the number of unchanged lines shown around each change.
const Context = 3

// maxCells bounds the quadratic line matcher; beyond it the changed middle
// is shown as fully replaced, which is still a correct diff.
const maxCells = 16 << 20

// Unified returns the unified diff from a to b, labelled with the two names,
// or "" when they are equal. A missing final newline is marked the way
// diff(1) marks it; CR characters stay in the lines so CRLF changes show.
func Unified(oldName, newName string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	ops := edits(x, y)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for _, h := range hunks(ops) {
		writeHunk(&out, h, x, y)
	}
	return out.String()
}

// splitLines keeps each line's terminator so that "a" and "a\n" differ.
func splitLines(b []byte) []string {
	var lines []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, string(b))
			break
		}
		lines = append(lines, string(b[:i+1]))
		b = b[i+1:]
	}
	return lines
}

type opKind byte

const (
	keep opKind = ' '
	del  opKind = '-'
	ins  opKind = '+'
)

// op is one line of the edit script; ai/bi index the line in a or b.
type op struct {
	kind   opKind
	ai, bi int
}

func edits(x, y []string) []op {
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{keep, i, i})
	}
	ops = append(ops, middle(x[pre:len(x)-suf], y[pre:len(y)-suf], pre, pre)...)
	for i := 0; i < suf; i++ {
		ops = append(ops, op{keep, len(x) - suf + i, len(y) - suf + i})
	}
	return ops
}

// middle is a longest-common-subsequence match of the changed region.
func middle(x, y []string, ax, by int) []op {
	n, m := len(x), len(y)
	var ops []op
	if n*m > maxCells || n == 0 || m == 0 {
		for i := range x {
			ops = append(ops, op{del, ax + i, -1})
		}
		for j := range y {
			ops = append(ops, op{ins, -1, by + j})
		}
		return ops
	}
	// lcs[i][j] = LCS length of x[i:], y[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{keep, ax + i, by + j})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			// Deletions before insertions, as diff(1) prints them.
			ops = append(ops, op{del, ax + i, -1})
			i++
		default:
			ops = append(ops, op{ins, -1, by + j})
			j++
		}
	}
	return ops
}

// hunks groups the script into ranges of changes with Context lines around.
func hunks(ops []op) [][]op {
	var out [][]op
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == keep {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(0, i-Context)
		end := i
		for end < len(ops) {
			if ops[end].kind != keep {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == keep {
				run++
			}
			if run == len(ops) || run-end > 2*Context {
				end = min(end+Context, len(ops))
				break
			}
			end = run
		}
		out = append(out, ops[start:end])
		i = end
	}
	return out
}

func writeHunk(out *strings.Builder, h []op, x, y []string) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, o := range h {
		if o.kind != ins {
			if aStart < 0 {
				aStart = o.ai
			}
			aLen++
		}
		if o.kind != del {
			if bStart < 0 {
				bStart = o.bi
			}
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", rangeOf(aStart, aLen, h, true), rangeOf(bStart, bLen, h, false))
	for _, o := range h {
		line := ""
		if o.kind == ins {
			line = y[o.bi]
		} else {
			line = x[o.ai]
		}
		out.WriteByte(byte(o.kind))
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// rangeOf formats "start,len" as diff(1) does: an empty range names the
// line before it.
func rangeOf(start, n int, h []op, old bool) string {
	if n == 0 {
		// Position of the insertion point: the line before the hunk's
		// first change on this side.
		before := 0
		for _, o := range h {
			if old && o.kind == ins || !old && o.kind == del {
				break
			}
			if old {
				before = o.ai + 1
			} else {
				before = o.bi + 1
			}
		}
		return fmt.Sprintf("%d,0", before)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
