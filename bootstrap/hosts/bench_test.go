package hosts

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkEditLargeHostsFile: parse, compose and check a 10,000-line file.
func BenchmarkEditLargeHostsFile(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "10.%d.%d.%d\thost-%d.example.test host-%d\n", i/65536, i/256%256, i%256, i, i)
	}
	in := []byte(sb.String())
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := edit(in); err != nil {
			b.Fatal(err)
		}
	}
}
