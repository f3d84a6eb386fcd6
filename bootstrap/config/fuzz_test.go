package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func addExamples(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(examples, "*.toml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a = '''\n[x]\n'''\n[[t]]\n[t.u]\nk = [\n 1,\n]\n\"q.r\".s = 1\n"))
	f.Add([]byte("[dns]\r\nrefresh = \"1h\"\r\n[[dns.records]]\r\nname = 'a.b'\r\n"))
}

// FuzzLoad: Load never panics, refuses exactly when it reports an error,
// and every problem prints.
func FuzzLoad(f *testing.F) {
	addExamples(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The same bytes as a whole document, and split into a local file
		// merged under user-data.
		half := len(data) / 2
		for _, srcs := range [][]Source{
			{{Name: "user-data", Data: data}},
			{{Name: "config.toml", Data: data[:half]}, {Name: "user-data", Data: data[half:]}},
		} {
			cfg, ps := Load(srcs...)
			if (cfg == nil) != (len(ps.Errors()) > 0) {
				t.Fatalf("config %v with errors %v", cfg != nil, ps.Errors())
			}
			for _, p := range ps {
				if p.String() == "" || p.Message == "" {
					t.Errorf("empty problem %#v", p)
				}
			}
			if err := ps.Err(); err != nil && err.Error() == "" {
				t.Error("empty error")
			}
		}
	})
}

// FuzzKeyPositions: the key scanner never panics and every position it
// gives is inside the document; in a valid document (the only kind whose
// positions are ever shown) on a key's first character.
func FuzzKeyPositions(f *testing.F) {
	addExamples(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		idx := keyPositions(data)
		var m map[string]any
		valid := toml.Unmarshal(data, &m) == nil
		lines := strings.Split(string(data), "\n")
		for key, pos := range idx.exact {
			if pos.line < 1 || pos.line > len(lines) {
				t.Fatalf("%s: line %d of %d", key, pos.line, len(lines))
			}
			line := lines[pos.line-1]
			if pos.col < 1 || pos.col > len(line)+1 {
				t.Fatalf("%s: column %d of %q", key, pos.col, line)
			}
			if valid && pos.col <= len(line) {
				if c := line[pos.col-1]; c == '#' || c == ' ' || c == '\t' || c == '=' || c == '[' {
					t.Errorf("%s: position %d:%d points at %q in %q", key, pos.line, pos.col, c, line)
				}
			}
			if pos.key != key {
				t.Errorf("position stored under %q names %q", key, pos.key)
			}
		}
	})
}
