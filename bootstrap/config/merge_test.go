package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The example of docs/config.md "How the two sources merge": the local
// file has the account's server and password_file, user-data only its
// username. Only [imds] is checked before user-data is read; the account
// is checked once merged.
func TestLocalFileCompletedByUserData(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	local := `[imds]
timeout = "5s"

[dns.accounts.dyn]
server = "https://members.dyndns.org"
password_file = "/etc/ec2boot/dyn.secret"
`
	if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	l := Local{Path: path, Name: "/etc/ec2boot/config.toml", Required: true}
	imds, ps := LoadIMDS(l)
	if len(ps) != 0 || imds.Timeout.Duration != 5*time.Second || imds.RequestTimeout.Duration != time.Second {
		t.Fatalf("LoadIMDS = %+v, %v", imds, problemStrings(ps))
	}
	cfg, ps := l.Load(Source{Name: "user-data", Data: []byte("[dns.accounts.dyn]\nusername = \"web-team\"\n")})
	if cfg == nil {
		t.Fatalf("merged configuration refused: %v", problemStrings(ps))
	}
	a := cfg.DNS.Accounts["dyn"]
	if a.Server != "https://members.dyndns.org" || a.PasswordFile != "/etc/ec2boot/dyn.secret" || a.Username != "web-team" {
		t.Errorf("merged account = %+v", a)
	}
	// The local file alone is still incomplete, and says so when merged
	// with nothing.
	if _, ps := l.Load(Source{}); len(ps.Errors()) != 1 || !strings.Contains(ps[0].String(), "dns.accounts.dyn.username: missing") {
		t.Errorf("local alone: %v", problemStrings(ps))
	}
}

// LoadIMDS still refuses what is wrong in the local file on its own: its
// syntax, unknown keys, and [imds] itself.
func TestLoadIMDSRefusals(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"[imds]\ntimeout = \"1s\"\nrequest_timeout = \"2s\"\n", "local.toml:3:1: imds.request_timeout: 2s is longer than imds.timeout 1s"},
		{"[dns]\nbogus = 1\n", "local.toml:2:1: dns.bogus: unknown key"},
		{"[imds\n", "local.toml:2:6: expected"},
	} {
		path := filepath.Join(t.TempDir(), "local.toml")
		if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		_, ps := LoadIMDS(Local{Path: path, Name: "local.toml"})
		if len(ps.Errors()) != 1 || !strings.HasPrefix(ps[0].String(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, problemStrings(ps), tc.want)
		}
	}
}

func TestExplicitLocalFileMustExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	if _, ps := LoadIMDS(Local{Path: missing, Name: "/etc/ec2boot/nope.toml"}); len(ps) != 0 {
		t.Errorf("default path missing: %v", problemStrings(ps))
	}
	_, ps := LoadIMDS(Local{Path: missing, Name: "/etc/ec2boot/nope.toml", Required: true})
	if diff := cmp.Diff([]string{"/etc/ec2boot/nope.toml: no such file (given with --config)"}, problemStrings(ps)); diff != "" {
		t.Errorf("explicit --config missing (-want +got):\n%s", diff)
	}
	if _, ps := (Local{Path: missing, Name: "x", Required: true}).Load(Source{}); ps.Err() == nil {
		t.Error("Load accepted a missing explicit file")
	}
}

// A quoted TOML key may hold anything; printed, it stays on its line.
func TestProblemsStayOnOneLine(t *testing.T) {
	doc := "[dns]\n\"evil\\nuser-data:1:1: forged\" = 1\n\"\\u001b[2J\" = 2\n"
	_, ps := Load(Source{Name: "user-data", Data: []byte(doc)})
	want := []string{
		`user-data: dns.evil\nuser-data:1:1: forged: unknown key`,
		`user-data: dns.\x1b[2J: unknown key`,
	}
	if diff := cmp.Diff(want, problemStrings(ps)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
