// Package diff renders unified diffs of text files for `ec2boot plan`.
//
// The line matching and the unified format are github.com/aymanbagabas/go-udiff's
// (the Go tools' diff, Myers' algorithm in linear memory): a rewrite of a
// large file costs memory in proportion to its lines, not to their square.
package diff

import (
	"bytes"

	"github.com/aymanbagabas/go-udiff"
)

// Unified returns the unified diff from a to b with three lines of context,
// labelled with the two names, or "" when they are equal. A missing final
// newline is marked the way diff(1) marks it; CR characters stay in the
// lines so CRLF changes show.
func Unified(oldName, newName string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	return udiff.Unified(oldName, newName, string(a), string(b))
}
