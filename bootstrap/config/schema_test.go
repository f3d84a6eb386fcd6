package config

import (
	"encoding"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

// schemaKeys lists every key the Config type accepts, as dotted paths with
// "*" for names the operator chooses (accounts, roles) and "[]" for arrays
// of tables: dns.accounts.*.password_file, templates[].check.
func schemaKeys(t reflect.Type, prefix string, out map[string]bool) {
	textual := reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		out[key] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if reflect.PointerTo(ft).Implements(textual) {
			continue
		}
		switch {
		case ft.Kind() == reflect.Struct:
			schemaKeys(ft, key+".", out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			schemaKeys(ft.Elem(), key+"[].", out)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			out[key+".*"] = true
			schemaKeys(ft.Elem(), key+".*.", out)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Slice:
			out[key+".*"] = true
		}
	}
}

// documentKeys lists the keys a decoded document uses, in schemaKeys'
// notation, guided by the schema for which tables hold chosen names.
func documentKeys(m map[string]any, prefix string, schema, out map[string]bool) {
	for k, v := range m {
		key := prefix + k
		if !schema[key] && schema[prefix+"*"] {
			key = prefix + "*"
		}
		out[key] = true
		switch v := v.(type) {
		case map[string]any:
			documentKeys(v, key+".", schema, out)
		case []map[string]any:
			for _, e := range v {
				documentKeys(e, key+"[].", schema, out)
			}
		}
	}
}

// TestCompleteExampleUsesEveryKey keeps testdata/config/complete.toml and
// docs/config.md complete: a key added to a section must be shown in the
// example and described in the docs.
func TestCompleteExampleUsesEveryKey(t *testing.T) {
	schema := map[string]bool{}
	schemaKeys(reflect.TypeOf(Config{}), "", schema)

	var doc map[string]any
	if _, err := toml.DecodeFile(filepath.Join(examples, "complete.toml"), &doc); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	documentKeys(doc, "", schema, used)
	var missing []string
	for k := range schema {
		if !used[k] && !strings.HasPrefix(k, "vars.") {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("testdata/config/complete.toml does not show these keys; add each with a comment (-want +got):\n%s", diff)
	}

	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The docs' tables name each key in backquotes in their first column.
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)`").FindAllStringSubmatch(string(docs), -1) {
		documented[m[1]] = true
	}
	missing = nil
	for k := range schema {
		if !documented[k] && !isContainer(k, schema) {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("docs/config.md has no table row for these keys (-want +got):\n%s", diff)
	}
}

// isContainer reports whether key is a table that holds other keys (those
// are documented, not the table itself).
func isContainer(key string, schema map[string]bool) bool {
	for k := range schema {
		if strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[].") {
			return true
		}
	}
	return false
}
