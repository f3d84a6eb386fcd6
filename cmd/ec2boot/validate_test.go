package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

const fleetTOML = `
[dns.accounts.dyn]
server = "http://127.0.0.1:8245"
username = "u"
password_file = "/etc/ec2boot/dyn.secret"

[[dns.records]]
name = "{{ .Tags.Name }}.internal.example.com"
address = "local-ipv4"
account = "dyn"
`

// validate makes template names from --facts, from the cache, or says it
// checked only their syntax.
func TestValidateNamesWithFacts(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "fleet.toml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(conf, fleetTOML)
	good := filepath.Join(dir, "good.json")
	write(good, `{"instance_id": "i-0123456789abcdef0", "tags": {"Name": "web-3"}, "tags_available": true}`)
	noTags := filepath.Join(dir, "notags.json")
	write(noTags, `{"instance_id": "i-0123456789abcdef0"}`)
	root := t.TempDir() // no cached facts under it
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"facts with the tag", []string{"--facts", good, conf}, cli.ExitOK,
			"names written as templates: made from the facts of i-0123456789abcdef0 (from " + good + ")"},
		{"facts without tags", []string{"--facts", noTags, conf}, cli.ExitUsage,
			`dns.records[0].name: template "{{ .Tags.Name }}.internal.example.com": needs the tag "Name", but the instance metadata service serves no tags: enable instance metadata tags in the launch template (InstanceMetadataTags=enabled)`},
		{"no facts at all", []string{conf}, cli.ExitOK,
			"names written as templates: checked for syntax and fact names only (no facts: give --facts FILE, or run on the instance)"},
		{"facts file unreadable", []string{"--facts", filepath.Join(dir, "missing.json"), conf}, cli.ExitUsage, "--facts: open "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"validate", "--root", root}, tc.args...)
			code := realMain(args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.want) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant a line with: %s", code, tc.code, stdout.String(), stderr.String(), tc.want)
			}
		})
	}
}
