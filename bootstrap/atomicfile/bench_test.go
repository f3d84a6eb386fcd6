package atomicfile

import (
	"bytes"
	"path/filepath"
	"testing"
)

// BenchmarkWriteUnchanged is the cost of a no-change run per file.
func BenchmarkWriteUnchanged(b *testing.B) {
	p := filepath.Join(b.TempDir(), "hosts")
	data := bytes.Repeat([]byte("10.0.0.1 host.example.test\n"), 200)
	if _, err := Write(p, data, Defaults()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if out, err := Write(p, data, Defaults()); err != nil || out != Unchanged {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkWriteChanged is the full temp+fsync+rename+dir-fsync path.
func BenchmarkWriteChanged(b *testing.B) {
	p := filepath.Join(b.TempDir(), "hosts")
	data := [][]byte{[]byte("a\n"), []byte("b\n")}
	i := 0
	for b.Loop() {
		if _, err := Write(p, data[i%2], Defaults()); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
