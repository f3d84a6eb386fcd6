package diff

import (
	"fmt"
	"strings"
	"testing"
)

// rewrite returns two 4,000-line files that share no line: every line of
// the file is rewritten, the worst case for the line matcher.
func rewrite() (a, b []byte) {
	var x, y strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&x, "server backend-%d 10.0.%d.%d:8080 check\n", i, i/256, i%256)
		fmt.Fprintf(&y, "server backend-%d 10.1.%d.%d:8443 check inter 2s\n", i, i/256, i%256)
	}
	return []byte(x.String()), []byte(y.String())
}

// BenchmarkUnifiedRewrite4000 diffs a 4,000-line rewrite; -benchmem (or
// the ReportAllocs below) shows the memory, which grows with the lines.
func BenchmarkUnifiedRewrite4000(b *testing.B) {
	x, y := rewrite()
	b.ReportAllocs()
	for b.Loop() {
		if Unified("a", "b", x, y) == "" {
			b.Fatal("no diff")
		}
	}
}
