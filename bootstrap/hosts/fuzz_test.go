package hosts

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: the editor never panics, and whatever it accepts it rewrites
// keeping every byte outside the block and reaching a fixed point.
func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join(corpus, "*.in"))
	for _, p := range inputs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(in)
		if err != nil {
			return
		}
		_ = file.HandEdited()
		_ = file.Entries()
		out, _, err := edit(in)
		if err != nil {
			t.Fatalf("accepted input, rejected own output: %v", err)
		}
		if got, want := outside(t, out, false), outside(t, in, true); got != want {
			t.Fatalf("outside bytes changed:\n%q\n%q", want, got)
		}
		again, _, err := edit(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %v", err)
		}
		nf, _ := Parse(out)
		if nf.HandEdited() {
			t.Fatalf("own block reported as hand edited")
		}
	})
}
