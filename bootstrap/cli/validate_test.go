package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/logging"
)

func writeFile(t *testing.T, root, path, content string) string {
	t.Helper()
	p := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func validate(t *testing.T, root, config string, explicit bool, file string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	g := &Globals{Root: root, ConfigPath: config, ConfigExplicit: explicit, Stdout: &out, Log: logging.Discard()}
	code := Validate(context.Background(), g, file, "")
	return code, out.String()
}

// The merge example of docs/config.md: the image's file has the account's
// server and password_file, user-data its username. validate FILE lays the
// file over --config, as a run does.
func TestValidateMergesFileOverTheLocalConfig(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "/etc/ec2boot/config.toml", `[dns.accounts.dyn]
server = "https://members.dyndns.org"
password_file = "/etc/ec2boot/dyn.secret"
`)
	ud := writeFile(t, t.TempDir(), "user-data.toml", `[dns.accounts.dyn]
username = "web-team"

[[dns.records]]
name = "web-1.example.com"
address = "public-ipv4"
account = "dyn"
`)
	code, out := validate(t, root, "/etc/ec2boot/config.toml", false, ud)
	if want := ud + " over /etc/ec2boot/config.toml: valid (0 warning(s))\n"; code != ExitOK || out != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, out, want)
	}
	// The local file itself, given as FILE, is not merged with itself.
	code, out = validate(t, root, "/etc/ec2boot/config.toml", false, filepath.Join(root, "etc/ec2boot/config.toml"))
	if code != ExitUsage || strings.Count(out, "username: missing") != 1 {
		t.Errorf("local file alone: exit %d:\n%s", code, out)
	}
}

// Every problem at once: unknown keys, values, a missing template, a
// template that does not parse, and references to roles, vars and facts
// the configuration does not have.
func TestValidateReportsEveryProblemIncludingTemplates(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "/etc/ec2boot/broken.tmpl", "upstream {\n{{ .Nope }\n")
	writeFile(t, root, "/etc/ec2boot/refs.tmpl", "{{ range .Peers.cache }}{{ end }}{{ .Vars.port }} {{ .Facts.Zone }}\n{{ range .Peers.web }}{{ .Addr }}{{ end }}\n")
	ud := writeFile(t, t.TempDir(), "ud.toml", `[peers]
colour = "blue"
min_keep = 2.0

[peers.roles]
web = ["web-1.example.com"]

[vars]
env = "prod"

[[templates]]
source = "broken.tmpl"
destination = "/etc/app/broken.conf"

[[templates]]
source = "missing.tmpl"
destination = "/etc/app/missing.conf"

[[templates]]
source = "refs.tmpl"
destination = "/etc/app/refs.conf"
`)
	code, out := validate(t, root, "/etc/ec2boot/config.toml", false, ud)
	want := ud + `:2:1: peers.colour: unknown key
` + ud + `:3:1: peers.min_keep: must be between 0 and 1, got 2
/etc/ec2boot/broken.tmpl:2: templates[0]: unexpected "}" in operand
` + ud + `: templates[1].source: template "missing.tmpl" not found (looked for /etc/ec2boot/missing.tmpl, /usr/share/ec2boot/templates/missing.tmpl)
/etc/ec2boot/refs.tmpl:1:16: templates[2]: role "cache": no such role in peers.roles (known: web)
/etc/ec2boot/refs.tmpl:1:42: templates[2]: vars.port is not set (known: env)
/etc/ec2boot/refs.tmpl:1:60: templates[2]: no fact Zone (see the template data in docs/peers.md)
` + ud + `: 7 error(s), 0 warning(s)
`
	if diff := cmp.Diff(want, out); diff != "" || code != ExitUsage {
		t.Errorf("exit %d (-want +got):\n%s", code, diff)
	}
}

func TestValidateExplicitConfigMustExist(t *testing.T) {
	root := t.TempDir()
	ud := writeFile(t, t.TempDir(), "ud.toml", "[vars]\nx = 1\n")
	code, out := validate(t, root, "/etc/ec2boot/other.toml", true, ud)
	if want := "/etc/ec2boot/other.toml: no such file (given with --config)\n" + ud + ": 1 error(s), 0 warning(s)\n"; code != ExitUsage || out != want {
		t.Errorf("exit %d:\n%s\nwant:\n%s", code, out, want)
	}
	// The default path, missing, is fine.
	if code, out := validate(t, root, "/etc/ec2boot/config.toml", false, ud); code != ExitOK {
		t.Errorf("default config missing: exit %d:\n%s", code, out)
	}
}

// --config on the command line, before or after the command, is told
// apart from its default.
func TestConfigGivenIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"run"}, false},
		{[]string{"--config", "/x.toml", "run"}, true},
		{[]string{"validate", "--config=/x.toml"}, true},
		{[]string{"validate", "--root", "/tmp"}, false},
	} {
		p, err := Parse(tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := p.GlobalsGiven["config"]; got != tc.want {
			t.Errorf("%v: config given = %v, want %v", tc.args, got, tc.want)
		}
	}
}
