package main

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
	"github.com/ec2boot/ec2boot/internal/cmddoc"
)

// The manual pages and shell completions are generated from the command
// table and the usage text in this package (ec2boot(8), completions) and
// from docs/config.md (ec2boot.toml(5)). `make man` runs
//
//	go test ./cmd/ec2boot -run TestGeneratedDocs -update
//
// to rewrite them; without -update the test fails when one is stale.
var update = flag.Bool("update", false, "rewrite the man pages and completions")

// reference is what the program says about itself, read from the same
// table and text that --help prints.
func reference() cmddoc.Reference {
	r := cmddoc.Reference{
		Name:    "ec2boot",
		Summary: "configure an EC2 instance at boot",
		Usage:   usage,
		SeeAlso: []string{"ec2boot.toml(5)", "systemd.timer(5)", "cloud-init(1)"},
	}
	for name, c := range commands {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		c.flags(fs)
		r.Commands = append(r.Commands, cmddoc.Command{Name: name, Args: c.args, Help: c.help, Flags: flagsOf(fs)})
	}
	g := &cli.Globals{Root: "/", ConfigPath: "/etc/ec2boot/config.toml"}
	logFormat, verbose := "auto", false
	fs := flag.NewFlagSet("ec2boot", flag.ContinueOnError)
	registerGlobals(fs, g, &logFormat, &verbose)
	r.Globals = flagsOf(fs)
	return r
}

// flagsOf lists a flag set's flags; names bound to one variable (-v and
// --verbose) make one flag.
func flagsOf(fs *flag.FlagSet) []cmddoc.Flag {
	var out []cmddoc.Flag
	var values []flag.Value
	fs.VisitAll(func(f *flag.Flag) {
		for i, v := range values {
			if v == f.Value {
				out[i].Names = append(out[i].Names, f.Name)
				return
			}
		}
		arg, use := flag.UnquoteUsage(f)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			arg = ""
		}
		out = append(out, cmddoc.Flag{Names: []string{f.Name}, Arg: strings.ToUpper(arg), Usage: use})
		values = append(values, f.Value)
	})
	return out
}

func generated(t *testing.T) map[string][]byte {
	t.Helper()
	r := reference()
	man8, err := cmddoc.ManPage(cmddoc.Title{Name: "ec2boot", Section: "8", Source: "ec2boot", Manual: "System Administration"}, r)
	if err != nil {
		t.Fatalf("ec2boot(8): %v", err)
	}
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	man5, err := cmddoc.DocPage(cmddoc.Title{Name: "ec2boot.toml", Section: "5", Source: "ec2boot", Manual: "File Formats"},
		"ec2boot configuration file and user-data",
		"*/etc/ec2boot/config.toml*, merged under the TOML in the instance's user-data", doc)
	if err != nil {
		t.Fatalf("ec2boot.toml(5) from docs/config.md: %v", err)
	}
	return map[string][]byte{
		"man/ec2boot.8":            man8,
		"man/ec2boot.toml.5":       man5,
		"completions/ec2boot.bash": []byte(cmddoc.Bash(r)),
		"completions/_ec2boot":     []byte(cmddoc.Zsh(r)),
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

// TestManPageCoversTheCommandTable checks that every command and every flag
// reaches ec2boot(8).
func TestManPageCoversTheCommandTable(t *testing.T) {
	page := string(generated(t)["man/ec2boot.8"])
	plain := strings.ReplaceAll(page, `\-`, "-")
	for name, c := range commands {
		if !strings.Contains(plain, ".SS ec2boot "+name) {
			t.Errorf("ec2boot(8) has no subsection for %s", name)
		}
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		c.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(plain, "--"+f.Name) {
				t.Errorf("ec2boot(8) does not mention %s --%s", name, f.Name)
			}
		})
	}
	for _, want := range []string{"--root", "--config", "--imds-endpoint", "--log-format", "--verbose", ".SH EXIT STATUS"} {
		if !strings.Contains(plain, want) {
			t.Errorf("ec2boot(8) lacks %q", want)
		}
	}
}

// TestBashCompletion sources the generated script in bash and asks it what
// it completes.
func TestBashCompletion(t *testing.T) {
	bash := tool(t, "bash", "apt-get install bash")
	script := filepath.Join(t.TempDir(), "ec2boot.bash")
	if err := os.WriteFile(script, generated(t)["completions/ec2boot.bash"], 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"site.toml", "sub/"} {
		p := filepath.Join(dir, f)
		if strings.HasSuffix(f, "/") {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		line string // words typed; the last one is completed
		want []string
	}{
		{"ec2boot p", []string{"plan", "prepare-image"}},
		{"ec2boot pl", []string{"plan"}},
		{"ec2boot ver", []string{"version"}},
		{"ec2boot run --f", []string{"--force"}},
		{"ec2boot run --lo", []string{"--lock-wait", "--log-format"}},
		{"ec2boot --root /x fa", []string{"facts"}},
		{"ec2boot status --j", []string{"--json"}},
		{"ec2boot --ro", []string{"--root"}},
		{"ec2boot validate " + dir + "/si", []string{dir + "/site.toml"}},
		{"ec2boot --root " + dir + "/s", []string{dir + "/sub"}},
		{"ec2boot nosuch --f", nil},
	} {
		words := strings.Fields(tc.line)
		if strings.HasSuffix(tc.line, " ") {
			words = append(words, "")
		}
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
	if err := os.WriteFile(script, generated(t)["completions/_ec2boot"], 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Errorf("zsh -n _ec2boot: %v\n%s", err, out)
	}
}
