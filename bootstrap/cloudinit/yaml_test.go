package cloudinit

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want map[string]any
		// wantErr is a substring of the error; "" means none.
		wantErr string
		// wantDropped counts the entries left out.
		wantDropped int
	}{
		{name: "empty", doc: "", want: map[string]any{}},
		{name: "comments only", doc: "#cloud-config\n# nothing\n\n", want: map[string]any{}},
		{name: "document start", doc: "---\nmanage_etc_hosts: true\n", want: map[string]any{"manage_etc_hosts": true}},
		{name: "document end", doc: "a: 1\n...\n# bye\n", want: map[string]any{"a": 1}},
		{
			name: "compact list at the key's column",
			doc:  "mounts:\n- [ephemeral0, /mnt, auto, \"defaults,nofail\", \"0\", \"2\"]\n- [swap, none]\n",
			want: map[string]any{"mounts": []any{
				[]any{"ephemeral0", "/mnt", "auto", "defaults,nofail", "0", "2"},
				[]any{"swap", "none"},
			}},
		},
		{name: "flow in flow", doc: "mounts: [[ephemeral0, null]]\n", want: map[string]any{"mounts": []any{[]any{"ephemeral0", nil}}}},
		{name: "spaces inside brackets", doc: "mounts:\n  - [ ephemeral0 ]\n", want: map[string]any{"mounts": []any{[]any{"ephemeral0"}}}},
		{name: "list of lists", doc: "mounts:\n- - ephemeral0\n  - /media/ephemeral0\n", want: map[string]any{"mounts": []any{[]any{"ephemeral0", "/media/ephemeral0"}}}},
		{
			name: "module list",
			doc:  "cloud_init_modules:\n - migrator\n - [mounts, always]\n - [ 'ssh', once-per-instance ]\n - name: x\n   freq: always\n",
			want: map[string]any{"cloud_init_modules": []any{
				"migrator", []any{"mounts", "always"}, []any{"ssh", "once-per-instance"},
				map[string]any{"name": "x", "freq": "always"},
			}},
		},
		{name: "yes is true", doc: "manage_etc_hosts: yes\n", want: map[string]any{"manage_etc_hosts": true}},
		{name: "quoted stays a string", doc: "manage_etc_hosts: \"localhost\"\nb: 'yes'\n", want: map[string]any{"manage_etc_hosts": "localhost", "b": "yes"}},
		{
			name: "block scalar that looks like keys",
			doc: "write_files:\n- path: /etc/x\n  content: |\n    mounts: []\n    - x\n    key: value\n        deeper: 1\n\n    # kept\n" +
				"  owner: root\n- content: >-\n   manage_etc_hosts: true\n    - y\n   z\nmounts: [[ephemeral0, null]]\n",
			want: map[string]any{
				"write_files": []any{
					map[string]any{"path": "/etc/x", "content": "mounts: []\n- x\nkey: value\n    deeper: 1\n\n# kept\n", "owner": "root"},
					map[string]any{"content": "manage_etc_hosts: true\n - y\nz"},
				},
				"mounts": []any{[]any{"ephemeral0", nil}},
			},
		},
		{
			name: "block scalar indicators",
			doc:  "a: |2-\n   x\n  y\n\nb: >+\n  p\n  q\n\n\nc: |\n  last",
			want: map[string]any{"a": " x\ny", "b": "p q\n\n\n", "c": "last"},
		},
		{
			name: "comments after values",
			doc:  "mounts: # the list\n  - [a, b] # one\n  # between\n  - [c, d]#a comment\n  - e#not a comment\nmanage_etc_hosts: false # off\n",
			want: map[string]any{"mounts": []any{[]any{"a", "b"}, []any{"c", "d"}, "e#not a comment"}, "manage_etc_hosts": false},
		},
		{name: "CRLF", doc: "mounts:\r\n  - [ephemeral0, null]\r\nx: \"a\r\n  b\"\r\n", want: map[string]any{"mounts": []any{[]any{"ephemeral0", nil}}, "x": "a b"}},
		{name: "BOM", doc: "\ufeff#cloud-config\nmanage_etc_hosts: localhost\n", want: map[string]any{"manage_etc_hosts": "localhost"}},
		{name: "JSON", doc: `{"mounts": [["ephemeral0", null]], "n": 1.5, "t": true, "s": "\u00e9"}`, want: map[string]any{"mounts": []any{[]any{"ephemeral0", nil}}, "n": 1.5, "t": true, "s": "é"}},
		{name: "indented top level", doc: "  a: 1\n  b: [2]\n", want: map[string]any{"a": 1, "b": []any{2}}},
		{
			name: "YAML 1.1 scalars",
			doc:  "a: [~, on, Off, 0755, 0x1f, 0b11, 1_000, 1:20, 1e5, 1.5e+3, .inf, -.5, 09, '0755']\n",
			want: map[string]any{"a": []any{nil, true, false, 493, 31, 3, 1000, 80, "1e5", 1500.0, math.Inf(1), "-.5", "09", "0755"}},
		},
		{name: "keys become strings", doc: "1: a\ntrue: b\n~: c\n1.5: d\n", want: map[string]any{"1": "a", "true": "b", "null": "c", "1.5": "d"}},
		{name: "double-quoted escapes", doc: `a: "\\ \" \n \t \r \0 \/ \x41 \u00e9 \U0001F600"` + "\n", want: map[string]any{"a": "\\ \" \n \t \r \x00 / A é 😀"}},
		{name: "single-quoted", doc: "a: 'it''s\n  folded\n\n  twice'\n", want: map[string]any{"a": "it's folded\ntwice"}},
		{name: "multi-line plain", doc: "a: one\n  two\n\n  three\nb: x\n", want: map[string]any{"a": "one two\nthree", "b": "x"}},

		// Refused or broken, in a key that is read: an error naming the line.
		{name: "anchor in mounts", doc: "a: 1\nmounts: &m\n  - [ephemeral0, null]\n", wantErr: "line 2: YAML anchors (&name) are not read by ec2boot"},
		{name: "alias in modules", doc: "x: &x mounts\ncloud_init_modules:\n  - *x\n", wantErr: "line 3: YAML aliases", wantDropped: 1},
		{name: "tag in manage_etc_hosts", doc: "manage_etc_hosts: !!str true\n", wantErr: "line 1: YAML tags"},
		{name: "merge key in mounts", doc: "mounts:\n  <<: {a: b}\n", wantErr: "line 2: merge keys"},
		{name: "complex key", doc: "? mounts\n: [[ephemeral0, null]]\n", wantErr: "line 1: complex keys"},
		{name: "broken flow in mounts", doc: "mounts: [[ephemeral0, null\nother: 1\n", wantErr: "line 2: expected ',' or ']', found ':'"},
		{name: "tab in mounts", doc: "mounts:\n\t- [ephemeral0, null]\n", wantErr: "line 2: tab character"},
		{name: "unclosed quote in manage_etc_hosts", doc: "manage_etc_hosts: \"localhost\nmounts: []\n", wantErr: "line 1: quoted string not closed"},
		{name: "bad character in mounts", doc: "mounts: [[a\x01, b]]\n", wantErr: "line 1: control character U+0001"},
		{name: "invalid UTF-8 in modules", doc: "cloud_final_modules: [caf\xe9]\n", wantErr: "line 1: invalid UTF-8"},
		{name: "deep nesting in mounts", doc: "mounts: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n", wantErr: "nested deeper than 100 levels"},
		{name: "value after value", doc: "manage_etc_hosts: \"a\" b\n", wantErr: "line 1: expected a key at this indentation, found a scalar"},
		{name: "bad indentation under mounts", doc: "mounts:\n    - [a, b]\n  - [c, d]\nx: 1\n", wantErr: "line 3:"},

		// The same elsewhere: the entry is left out, the rest is read.
		{
			name:        "refused constructs elsewhere",
			doc:         "defaults: &d {a: 1}\nother: *d\ntagged: !!binary aGk=\n? complex\n: key\nmerged:\n  <<: *d\nmounts: [[ephemeral0, null]]\n",
			want:        map[string]any{"mounts": []any{[]any{"ephemeral0", nil}}},
			wantDropped: 5,
		},
		{
			name:        "broken entries elsewhere",
			doc:         "runcmd: [ \"unterminated\nbootcmd:\n\t- tab\nmounts: [[ephemeral0, null]]\nwrite_files: {a: b\nmanage_etc_hosts: localhost\nusers: [a,\n  b]\n",
			want:        map[string]any{"mounts": []any{[]any{"ephemeral0", nil}}, "manage_etc_hosts": "localhost", "users": []any{"a", "b"}},
			wantDropped: 3,
		},
		{
			name:        "junk between entries",
			doc:         "mounts: []\njunk\n  more: junk\n]\nmanage_etc_hosts: false\n",
			want:        map[string]any{"mounts": []any{}, "manage_etc_hosts": false},
			wantDropped: 1,
		},
		{
			name:        "broken line under another key",
			doc:         "runcmd:\n    - a\n  - b\nmounts: []\n",
			want:        map[string]any{"mounts": []any{}},
			wantDropped: 1,
		},
		{name: "deep nesting elsewhere", doc: "a: " + strings.Repeat("[", 5000) + "\nmounts: []\n", want: map[string]any{"mounts": []any{}}, wantDropped: 1},
		{name: "broken first entry", doc: "\"unterminated: x\nmounts: []\n", want: map[string]any{"mounts": []any{}}, wantDropped: 1},
		{name: "tab first", doc: "\tfoo: bar\nmounts: []\n", want: map[string]any{"mounts": []any{}}, wantDropped: 1},
		{name: "end markers", doc: "a: 1\n...\n... # again\n# c\n", want: map[string]any{"a": 1}},
		{name: "bad characters elsewhere", doc: "a: \x00\nb: caf\xe9\nmounts: []\n", want: map[string]any{"mounts": []any{}}, wantDropped: 2},

		// Whole-document errors.
		{name: "list", doc: "- a\n- b\n", wantErr: "top level is not a mapping"},
		{name: "scalar", doc: "#cloud-config\njust text\n", wantErr: "top level is not a mapping"},
		{name: "directive", doc: "%YAML 1.1\n---\nmounts: []\n", wantErr: "line 1: YAML directives"},
		{name: "broken only", doc: "'unterminated\n", wantErr: "line 1: quoted string not closed"},
		{name: "second document after a broken first entry", doc: "\tx: 1\nmounts: []\n---\n", wantErr: "line 3: a second YAML document"},
		{name: "second document", doc: "mounts: []\n---\nmounts: [[ephemeral0, null]]\n", wantErr: "line 2: a second YAML document"},
		{name: "second document after an error", doc: "a: [\n---\nb: 1\n", wantErr: "line 2: a second YAML document"},
		{name: "end without start", doc: "...\n", wantErr: "line 1: expected a value, found '...'"},
		{name: "content after the end", doc: "a: 1\n...\nb: 2\n", wantErr: "line 3: content after the document end marker"},
		{name: "broken JSON", doc: `{"mounts": [], "a": [}`, wantErr: "line 1:"},
		{name: "anchored top level", doc: "&top\nmounts: []\n", wantErr: "line 1: YAML anchors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, dropped, err := parseDocument([]byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("Parse error %q is not one line", err)
				}
			} else if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); tc.wantErr == "" && diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			if len(dropped) != tc.wantDropped && err == nil {
				t.Errorf("left out %d entries (%v), want %d", len(dropped), dropped, tc.wantDropped)
			}
		})
	}
}

// TestParseBounded feeds inputs built to make a careless parser slow.
func TestParseBounded(t *testing.T) {
	for name, doc := range map[string]string{
		"open brackets": strings.Repeat("a: [\n", 50000),
		"nested lists":  strings.Repeat("- ", 50000) + "x\n",
		"nested mappings": func() string {
			var b strings.Builder
			for i := range 1000 {
				fmt.Fprintf(&b, "%*sk:\n", i, "")
			}
			return b.String()
		}(),
		"long flow line":    "a: [" + strings.Repeat("b: c, ", 100000) + "]\n",
		"long key line":     strings.Repeat("{", 99) + strings.Repeat("a", 200000) + "\n",
		"many broken lines": strings.Repeat("x: \"\n", 50000),
		"unclosed quotes":   strings.Repeat("'", 100000),
	} {
		start := time.Now()
		if _, _, err := parseDocument([]byte(doc)); err != nil {
			t.Logf("%s: %v", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
}

// sameAsYAMLv3 compares Parse's value with go.yaml.in/yaml/v3's node
// tree. YAML 1.1 and 1.2 type plain scalars differently ("yes", 0755,
// 1:20), so a plain scalar or key is compared by its text, typed the YAML
// 1.1 way; quoted and block scalars must be the same string.
func sameAsYAMLv3(path string, ours any, n *yaml.Node) error {
	switch n.Kind {
	case 0:
		if m, ok := ours.(map[string]any); !ok || len(m) != 0 {
			return fmt.Errorf("%s: yaml.v3 reads nothing, Parse %v", path, ours)
		}
		return nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 || n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Style == 0 && n.Content[0].Value == "" {
			return sameAsYAMLv3(path, ours, &yaml.Node{}) // "---" alone
		}
		return sameAsYAMLv3(path, ours, n.Content[0])
	case yaml.MappingNode:
		m, ok := ours.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: yaml.v3 reads a mapping, Parse %#v", path, ours)
		}
		want := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: Parse read a %v key", path, k.Kind)
			}
			ks := k.Value
			if k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
				v, _ := resolvePlain(k.Value, true)
				ks, _ = keyString(v)
			}
			want[ks] = n.Content[i+1]
		}
		if len(want) != len(m) {
			return fmt.Errorf("%s: yaml.v3 reads keys %q, Parse %q", path, sortedKeys(want), sortedKeys(m))
		}
		for k, v := range want {
			o, ok := m[k]
			if !ok {
				return fmt.Errorf("%s: yaml.v3 reads key %q, Parse does not (%q)", path, k, sortedKeys(m))
			}
			if err := sameAsYAMLv3(path+"."+k, o, v); err != nil {
				return err
			}
		}
		return nil
	case yaml.SequenceNode:
		l, ok := ours.([]any)
		if !ok || len(l) != len(n.Content) {
			return fmt.Errorf("%s: yaml.v3 reads a list of %d, Parse %#v", path, len(n.Content), ours)
		}
		for i, c := range n.Content {
			if err := sameAsYAMLv3(fmt.Sprintf("%s[%d]", path, i), l[i], c); err != nil {
				return err
			}
		}
		return nil
	case yaml.ScalarNode:
		want := any(n.Value)
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			want, _ = resolvePlain(n.Value, false)
		}
		if f, ok := want.(float64); ok && math.IsNaN(f) {
			if g, ok := ours.(float64); ok && math.IsNaN(g) {
				return nil
			}
		}
		if want != ours {
			return fmt.Errorf("%s: yaml.v3 reads %#v (style %v), Parse %#v", path, n.Value, n.Style, ours)
		}
		return nil
	}
	return fmt.Errorf("%s: yaml.v3 reads a %v node, Parse %#v", path, n.Kind, ours)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// yamlV3Differs says why go.yaml.in/yaml/v3 may read data differently from
// PyYAML, "" if it should not; err is how they differ. FuzzParse skips
// such inputs; TestParseMatchesPyYAML covers them.
func yamlV3Differs(data []byte, err error) string {
	if strings.Contains(err.Error(), "found a tab character where an indentation space is expected") {
		return "PyYAML takes a tab after the first line's indentation as a block scalar's text"
	}
	for i := 0; i+1 < len(data); i++ {
		switch {
		case data[i] == '\\' && data[i+1] == '/':
			return `yaml.v3 lacks the "\/" escape`
		case data[i] == ':' && strings.IndexByte(",[]{}", data[i+1]) >= 0:
			return `in a flow collection, yaml.v3 reads "a:]" as the scalar "a:", PyYAML as the key "a"`
		}
	}
	return ""
}
