// Package docs_test checks every configuration example of README.md and
// docs/*.md against the real binary, so that the documentation cannot
// drift from what ec2boot accepts and does.
//
// Every fenced block whose info string is toml or yaml is an example:
//
//   - toml: `ec2boot validate FILE` must exit 0 (warnings are fine);
//   - yaml: a cloud-config; `cloud-init schema --config-file FILE` must
//     accept it. A block without the "#cloud-config" line is a piece of
//     one: the test puts that line in front. (A Prometheus rules file is
//     marked prometheus-rules, below.)
//   - other blocks (sh, ini, plain output) are not run.
//
// A block is marked by an HTML comment on the line right before its
// opening fence, `<!-- example: WORD... -->`, optionally followed by
// `-- REASON` inside the comment. The words:
//
//   - invalid: the doc shows it as an error; validation must fail (exit 1).
//   - fragment: only part of a configuration that cannot stand alone (say
//     why after "--"); only its TOML syntax is checked. Keep it rare: a
//     section of a valid configuration is a valid configuration.
//   - local: the image's local file (/etc/ec2boot/config.toml), which
//     may be incomplete on its own (an account whose username comes from
//     user-data); it is checked as the local file of the "user-data"
//     blocks after it on the same page, and must have one.
//   - user-data: validated laid over the page's last "local" block, as a
//     run lays user-data over the local file.
//   - run: complete; besides validation, `ec2boot run` runs it on the
//     local test peers (see run_test.go) and checks what it did.
//   - prometheus-rules: a yaml block that is a Prometheus rules file, not
//     a cloud-config; `promtool check rules` must accept it.
//
// An unmarked block is validated like any other, so a new example is
// checked from the day it is written. A marker that is not right before a
// fence, or an unknown word, fails the test.
package docs_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/ec2boot/ec2boot/internal/testbin"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

// repo is the repository's top directory, from this package's.
const repo = "../.."

// ec2bootBin is the binary the examples run, built once for the package.
var ec2bootBin = testbin.New("github.com/ec2boot/ec2boot/cmd/ec2boot")

func TestMain(m *testing.M) {
	code := m.Run()
	ec2bootBin.Remove()
	os.Exit(code)
}

// pages are README.md and docs/*.md, relative to the repository.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md: %v", err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		files = append(files, filepath.ToSlash(strings.TrimPrefix(d, repo+string(filepath.Separator))))
	}
	sort.Strings(files[1:])
	return files
}

var knownMarks = map[string]bool{"invalid": true, "fragment": true, "local": true, "user-data": true, "run": true, "prometheus-rules": true}

// example is a block to check, with the local block it is laid over.
type example struct {
	block
	local *block
}

// examples returns every toml and yaml block of the pages, checking the
// markers.
func examples(t *testing.T) []example {
	t.Helper()
	var out []example
	for _, f := range pages(t) {
		text, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := extract(f, string(text))
		if err != nil {
			t.Fatal(err)
		}
		var local *block
		usedLocal := false
		for i, b := range blocks {
			for _, m := range b.marks {
				if !knownMarks[m] {
					t.Fatalf("%s: unknown marker %q (known: invalid, fragment, local, user-data, run, prometheus-rules)", b, m)
				}
			}
			if b.info != "toml" && b.info != "yaml" && b.info != "yml" {
				if len(b.marks) > 0 {
					t.Fatalf("%s: a ```%s block is not checked; its <!-- example --> marker does nothing", b, b.info)
				}
				continue
			}
			e := example{block: b}
			switch {
			case b.has("fragment") && b.why == "":
				t.Fatalf("%s: a fragment marker must say why: <!-- example: fragment -- REASON -->", b)
			case b.info != "toml" && (b.has("local") || b.has("user-data") || b.has("run") || b.has("fragment")):
				t.Fatalf("%s: local, user-data, run and fragment apply to toml blocks only", b)
			case b.info != "yaml" && b.has("prometheus-rules"):
				t.Fatalf("%s: prometheus-rules applies to yaml blocks only", b)
			case b.has("user-data"):
				if local == nil {
					t.Fatalf("%s: a user-data block needs a local block before it on the page", b)
				}
				e.local = local
			}
			if b.has("local") {
				if local != nil && !usedLocal {
					t.Fatalf("%s: the local block at %s has no user-data block after it", b, local)
				}
				local, usedLocal = &blocks[i], false
				continue // checked with the user-data laid over it
			}
			if e.local != nil {
				usedLocal = true
			}
			out = append(out, e)
		}
		if local != nil && !usedLocal {
			t.Fatalf("%s: the local block has no user-data block after it", local)
		}
	}
	return out
}

// validationRoot is a root holding what the package installs that
// validation looks at: the shipped templates.
func validationRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	installTemplates(t, root)
	return root
}

// installTemplates copies templates/ to ROOT/usr/share/ec2boot/templates,
// where the package puts them.
func installTemplates(t *testing.T, root string) {
	t.Helper()
	src := filepath.Join(repo, "templates")
	dst := filepath.Join(root, "usr/share/ec2boot/templates")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(dst, strings.TrimPrefix(p, src)), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}

type result struct {
	code   int
	output string // stdout then stderr
}

// ec2boot runs the binary with a bare environment plus env.
func ec2boot(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(ec2bootBin.Path(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	res := testbin.Run(t, cmd)
	return result{res.Code, res.Stdout + res.Stderr}
}

// TestDocExamples validates every toml and yaml block of the docs.
func TestDocExamples(t *testing.T) {
	all := examples(t)
	var toml, yaml int
	for _, e := range all {
		if e.info == "toml" {
			toml++
		} else {
			yaml++
		}
	}
	// The pages hold many examples; none found means the extraction broke.
	if toml < 10 || yaml < 2 {
		t.Fatalf("found %d toml and %d yaml blocks: the extraction is broken", toml, yaml)
	}
	for _, e := range all {
		t.Run(e.String(), func(t *testing.T) {
			switch {
			case e.info == "toml":
				checkTOML(t, e)
			case e.has("prometheus-rules"):
				checkPromRules(t, e)
			default:
				checkCloudConfig(t, e)
			}
		})
	}
}

func checkTOML(t *testing.T, e example) {
	dir := t.TempDir()
	file := filepath.Join(dir, strings.NewReplacer("/", "_", ".md", "").Replace(e.file)+fmt.Sprintf("_%d.toml", e.line))
	if err := os.WriteFile(file, []byte(e.body), 0o600); err != nil {
		t.Fatal(err)
	}
	if e.has("fragment") {
		var v map[string]any
		if _, err := toml.Decode(e.body, &v); err != nil {
			t.Errorf("%s: the fragment is not TOML: %v\n%s", e, err, e.body)
		}
		return
	}
	root := validationRoot(t)
	what := "alone"
	if e.local != nil {
		// The default --config, resolved inside the root.
		if err := writeFile(filepath.Join(root, "etc/ec2boot/config.toml"), []byte(e.local.body), 0o600); err != nil {
			t.Fatal(err)
		}
		what = "over the local file at " + e.local.String()
	}
	r := ec2boot(t, nil, "validate", "--root", root, file)
	switch {
	case e.has("invalid") && r.code != 1:
		t.Errorf("%s: marked invalid, but `ec2boot validate` (%s) exited %d:\n%s", e, what, r.code, r.output)
	case !e.has("invalid") && r.code != 0:
		t.Errorf("%s: `ec2boot validate` (%s) exited %d:\n%s", e, what, r.code, r.output)
	}
}

func checkPromRules(t *testing.T, e example) {
	promtool := testenv.Tool(t, "promtool", "install Prometheus's tools (apt-get install prometheus)")
	file := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(file, []byte(e.body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
	switch {
	case e.has("invalid") && err == nil:
		t.Errorf("%s: marked invalid, but `promtool check rules` accepted it:\n%s", e, out)
	case !e.has("invalid") && err != nil:
		t.Errorf("%s: `promtool check rules` refused it: %v\n%s", e, err, out)
	}
}

func checkCloudConfig(t *testing.T, e example) {
	ci := testenv.Tool(t, "cloud-init", "install cloud-init (apt-get install cloud-init)")
	body := e.body
	if !strings.HasPrefix(body, "#cloud-config") {
		body = "#cloud-config\n" + body
	}
	file := filepath.Join(t.TempDir(), "cloud-config.yaml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ci, "schema", "--config-file", file).CombinedOutput()
	switch {
	case e.has("invalid") && err == nil:
		t.Errorf("%s: marked invalid, but `cloud-init schema` accepted it:\n%s", e, out)
	case !e.has("invalid") && err != nil:
		t.Errorf("%s: `cloud-init schema` refused it: %v\n%s", e, err, out)
	}
}
