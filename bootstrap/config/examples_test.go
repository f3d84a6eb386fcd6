package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

var examples = filepath.Join("..", "..", "testdata", "config")

// renderProblems prints problems the way `ec2boot validate` does: one line
// each, then a summary.
func renderProblems(name string, ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	if n := len(ps.Errors()); n > 0 {
		fmt.Fprintf(&b, "%s: %d error(s), %d warning(s)\n", name, n, len(ps.Warnings()))
	} else {
		fmt.Fprintf(&b, "%s: valid (%d warning(s))\n", name, len(ps.Warnings()))
	}
	return b.String()
}

// TestExamples loads every testdata/config/*.toml on its own and compares
// every problem found, with position and key path, to its .golden file.
// The invalid-*.toml files must be refused and complete.toml accepted.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examples, "*.toml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, ps := Load(Source{Name: name, Data: data})
			invalid := strings.HasPrefix(name, "invalid-")
			if invalid && (cfg != nil || len(ps.Errors()) == 0) {
				t.Errorf("%s was accepted", name)
			}
			if !invalid && cfg == nil {
				t.Errorf("%s was refused", name)
			}
			for _, p := range ps {
				if p.Source != name || p.Line == 0 || p.Column == 0 {
					t.Errorf("problem without a position: %s", p)
				}
			}
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			got := renderProblems(name, ps)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", filepath.Base(golden), diff)
			}
		})
	}
}
