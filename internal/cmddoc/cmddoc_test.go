package cmddoc

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

// `make man` runs
//
//	go test ./internal/cmddoc -run TestGeneratedDocs -update
//
// to rewrite the committed pages and completions; without -update the test
// fails when one is stale.
var update = flag.Bool("update", false, "rewrite man/ and completions/")

func generated(t *testing.T) map[string][]byte {
	t.Helper()
	man8, err := ManPage(Title{Name: "ec2boot", Section: "8", Source: "ec2boot", Manual: "System Administration"},
		"configure an EC2 instance at boot", []string{"ec2boot.toml(5)", "systemd.timer(5)", "cloud-init(1)"})
	if err != nil {
		t.Fatalf("ec2boot(8): %v", err)
	}
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	man5, err := DocPage(Title{Name: "ec2boot.toml", Section: "5", Source: "ec2boot", Manual: "File Formats"},
		"ec2boot configuration file and user-data",
		"*/etc/ec2boot/config.toml*, merged under the TOML in the instance's user-data", doc)
	if err != nil {
		t.Fatalf("ec2boot.toml(5) from docs/config.md: %v", err)
	}
	return map[string][]byte{
		"man/ec2boot.8":            man8,
		"man/ec2boot.toml.5":       man5,
		"completions/ec2boot.bash": []byte(Bash()),
		"completions/_ec2boot":     []byte(Zsh()),
	}
}

func TestGeneratedDocs(t *testing.T) {
	for name, want := range generated(t) {
		path := filepath.Join("..", "..", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run make man)", name, err)
			continue
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("%s is stale; run make man (-generated +committed):\n%s", name, d)
		}
	}
}

// tool finds a checker; under CI a missing one fails the test.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %s", name, install)
		}
		t.Skipf("%s not found: %s", name, install)
	}
	return p
}

// thDate fills the .TH line's empty date as scripts/package.sh does with the
// date of the commit it packages.
var thDate = regexp.MustCompile(`(?m)^(\.TH \S+ \d) ""`)

// TestManPagesLint checks the generated roff with mandoc's linter: no
// warning, no error, once the date is filled in.
func TestManPagesLint(t *testing.T) {
	mandoc := tool(t, "mandoc", "apt-get install mandoc")
	for name, page := range generated(t) {
		if !strings.HasPrefix(name, "man/") {
			continue
		}
		if !thDate.Match(page) {
			t.Errorf("%s: no .TH line with an empty date for scripts/package.sh to fill", name)
		}
		cmd := exec.Command(mandoc, "-T", "lint", "-W", "warning")
		cmd.Stdin = bytes.NewReader(thDate.ReplaceAll(page, []byte(`$1 "2026-12-01"`)))
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("mandoc -T lint %s: %v\n%s", name, err, out)
		}
	}
	// The linter can fail: a page without its title is refused.
	cmd := exec.Command(mandoc, "-T", "lint", "-W", "warning")
	cmd.Stdin = strings.NewReader(".SH NAME\nx \\- y\n")
	if out, err := cmd.CombinedOutput(); err == nil && len(out) == 0 {
		t.Error("mandoc -T lint accepted a page without .TH")
	}
}

// TestManPageCoversTheCommandTable checks that every command, flag and exit
// code reaches ec2boot(8).
func TestManPageCoversTheCommandTable(t *testing.T) {
	page := strings.ReplaceAll(string(generated(t)["man/ec2boot.8"]), `\-`, "-")
	for _, c := range cli.Commands() {
		if !strings.Contains(page, ".SS ec2boot "+c.Name) {
			t.Errorf("ec2boot(8) has no subsection for %s", c.Name)
		}
		for _, f := range c.Flags {
			if !strings.Contains(page, "--"+f.Name) {
				t.Errorf("ec2boot(8) does not mention %s --%s", c.Name, f.Name)
			}
		}
	}
	for _, f := range append(cli.GlobalFlags(), cli.TopFlags()...) {
		if !strings.Contains(page, "--"+f.Name) {
			t.Errorf("ec2boot(8) does not mention --%s", f.Name)
		}
	}
	for _, e := range cli.ExitCodes() {
		if !strings.Contains(page, e.Meaning) {
			t.Errorf("ec2boot(8) does not explain exit code %d", e.Code)
		}
	}
}

// TestDocPageTables: a markdown table becomes a definition list, pipes in
// code spans stay in their cell.
func TestDocPageTables(t *testing.T) {
	md := "intro\n\n| key | type | meaning |\n|---|---|---|\n| `a` | string | one `x|y` two |\n| `b` |  | three |\n\nafter\n"
	want := "intro\n\n`a`\n:   type: string; meaning: one `x|y` two\n\n`b`\n:   meaning: three\n\n\nafter\n"
	if got := tablesToLists(md); got != want {
		t.Errorf("tablesToLists:\n%s", cmp.Diff(want, got))
	}
	if _, err := DocPage(Title{Name: "x", Section: "5"}, "y", "z", []byte("no title\n")); err == nil {
		t.Error("DocPage accepted a doc without a # title")
	}
}

// TestBashCompletion sources the generated script in bash and asks it what
// it completes.
func TestBashCompletion(t *testing.T) {
	bash := tool(t, "bash", "apt-get install bash")
	script := filepath.Join(t.TempDir(), "ec2boot.bash")
	if err := os.WriteFile(script, []byte(Bash()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // words typed; the last one is completed
		want []string
	}{
		{"ec2boot p", []string{"plan", "prepare-image"}},
		{"ec2boot pl", []string{"plan"}},
		{"ec2boot ver", []string{"version"}},
		{"ec2boot --ver", []string{"--verbose", "--version"}},
		{"ec2boot run --f", []string{"--force"}},
		{"ec2boot run --lo", []string{"--lock-wait", "--log-format"}},
		{"ec2boot plan --d", []string{"--detailed-exitcode"}},
		{"ec2boot --root /x fa", []string{"facts"}},
		{"ec2boot --log-format j", []string{"journal", "json"}},
		{"ec2boot status --j", []string{"--json"}},
		{"ec2boot help re", []string{"relocate"}},
		{"ec2boot validate " + dir + "/si", []string{dir + "/site.toml"}},
		{"ec2boot --root " + dir + "/s", []string{dir + "/sub"}},
		{"ec2boot nosuch --f", nil},
	} {
		words := strings.Fields(tc.line)
		prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ec2boot; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command(bash, append([]string{"-c", prog, "bash", script}, words...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, out)
		}
		got := strings.Fields(string(out))
		sort.Strings(got)
		if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("completing %q (-want +got):\n%s", tc.line, d)
		}
	}
}

// TestZshCompletion checks that zsh parses the completion function.
func TestZshCompletion(t *testing.T) {
	zsh := tool(t, "zsh", "apt-get install zsh")
	script := filepath.Join(t.TempDir(), "_ec2boot")
	if err := os.WriteFile(script, []byte(Zsh()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Errorf("zsh -n _ec2boot: %v\n%s", err, out)
	}
	// The check can fail: an unbalanced quote is a parse error.
	if err := os.WriteFile(script, []byte(Zsh()+"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Command(zsh, "-n", script).CombinedOutput(); err == nil {
		t.Error("zsh -n accepted an unbalanced quote")
	}
}
