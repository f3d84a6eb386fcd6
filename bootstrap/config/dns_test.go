package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDNSPresetsFillServerPathAndLimits(t *testing.T) {
	src := `[dns.accounts.dyn]
preset = "dyn"
username = "u"
password_file = "/etc/ec2boot/dyn.secret"
[dns.accounts.desec]
preset = "desec"
username = "u"
password_file = "/etc/ec2boot/desec.secret"
[dns.accounts.dyfi]
preset = "dy.fi"
username = "u"
password_file = "/etc/ec2boot/dyfi.secret"
[dns.accounts.own]
server = "http://127.0.0.1:8245"
path = "/custom/update"
username = "u"
password_file = "/etc/ec2boot/own.secret"
wildcard = "on"
`
	cfg, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	if cfg == nil {
		t.Fatalf("load: %v", problemStrings(ps))
	}
	type got struct {
		Server, Path, Wildcard string
		One                    bool
		Refresh                time.Duration
	}
	want := map[string]got{
		"dyn":   {"https://members.dyndns.org", "/nic/update", "", false, 25 * 24 * time.Hour},
		"desec": {"https://update.dedyn.io", "/nic/update", "", true, 25 * 24 * time.Hour},
		"dyfi":  {"https://www.dy.fi", "/nic/update", "", false, 6 * 24 * time.Hour},
		"own":   {"http://127.0.0.1:8245", "/custom/update", "ON", false, 25 * 24 * time.Hour},
	}
	have := map[string]got{}
	for name, a := range cfg.DNS.Accounts {
		have[name] = got{a.Server, a.Path, a.Wildcard, a.OneHostPerRequest, cfg.DNS.RefreshFor(name)}
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	if cfg.DNS.Budget.Duration != 30*time.Second || cfg.DNS.Accounts["dyn"].Timeout.Duration != 10*time.Second {
		t.Errorf("budget %v, timeout %v", cfg.DNS.Budget, cfg.DNS.Accounts["dyn"].Timeout)
	}
}

func TestDNSValidation(t *testing.T) {
	src := `[dns]
check_server = "127.0.0.1"
refresh = "10m"
budget = "5s"

[dns.accounts.a]
preset = "nope"
username = "u:x"
password_file = "relative.secret"
wildcard = "maybe"
backmx = "YES"
timeout = "10s"

[dns.accounts.b]
server = "ftp://example.com"
path = "nic/update"
username = "u"
password_file = "/s"
refresh = "1m"

[dns.accounts.c]
server = "https://user:pw@example.com/nic/update"
username = "u"
password_file = "/s"

[[dns.records]]
name = "web"
address = "public-ipv4"
account = "a"

[[dns.records]]
name = "WEB.example.com."
address = "local-ipv4"
account = "b"

[[dns.records]]
name = "web.example.com"
address = "public-ipv4"
account = "b"
`
	cfg, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	if cfg != nil {
		t.Fatal("invalid config accepted")
	}
	want := []string{
		"user-data:3:1: dns.refresh: 10m0s is too short: an unchanged update more often than hourly is abuse",
		`user-data:7:1: dns.accounts.a.preset: unknown preset "nope" (known: dyn, noip, dynu, desec, nsupdate.info, dy.fi)`,
		"user-data:8:1: dns.accounts.a.username: must not contain ':' (HTTP Basic authentication cannot carry it)",
		`user-data:9:1: dns.accounts.a.password_file: must be an absolute path, got "relative.secret"`,
		`user-data:10:1: dns.accounts.a.wildcard: "MAYBE" is not one of ON, OFF, NOCHG`,
		"user-data:11:1: dns.accounts.a.backmx: only meaningful together with mx",
		"user-data:12:1: dns.accounts.a.timeout: 10s is longer than dns.budget (5s)",
		`user-data:15:1: dns.accounts.b.server: "ftp://example.com": scheme must be https (or an explicit http)`,
		`user-data:16:1: dns.accounts.b.path: must be an absolute URL path without query, got "nic/update"`,
		"user-data:19:1: dns.accounts.b.refresh: 1m0s is too short: an unchanged update more often than hourly is abuse",
		`user-data:22:1: dns.accounts.c.server: "https://user:REDACTED@example.com/nic/update": credentials in the URL are refused (they would end up in logs); use username and password_file`,
		`user-data:27:1: dns.records[0].name: "web" is not fully qualified (providers answer notfqdn)`,
		`user-data:37:1: dns.records[2].name: "web.example.com" with account "b" is already dns.records[1]`,
	}
	got := problemStrings(ps.Errors())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestDNSCheckServerGetsDefaultPort(t *testing.T) {
	cfg, ps := Load(Source{Name: "user-data", Data: []byte("[dns]\ncheck_server = \"192.0.2.53\"\n")})
	if cfg == nil {
		t.Fatal(problemStrings(ps))
	}
	if cfg.DNS.CheckServer != "192.0.2.53:53" {
		t.Errorf("check_server = %q", cfg.DNS.CheckServer)
	}
}

func TestDNSPlainHTTPWarnsOffLoopback(t *testing.T) {
	for server, warn := range map[string]bool{"http://127.0.0.1:8245": false, "http://dyn.example.com": true, "https://dyn.example.com": false} {
		src := "[dns.accounts.a]\nserver = \"" + server + "\"\nusername = \"u\"\npassword_file = \"/s\"\n"
		cfg, ps := Load(Source{Name: "user-data", Data: []byte(src)})
		if cfg == nil {
			t.Fatalf("%s: %v", server, problemStrings(ps))
		}
		want := []string(nil)
		if warn {
			want = []string{"user-data:2:1: warning: dns.accounts.a.server: plain http sends the password in clear text; use https"}
		}
		if diff := cmp.Diff(want, problemStrings(ps.Warnings())); diff != "" {
			t.Errorf("%s: %s", server, diff)
		}
	}
}
