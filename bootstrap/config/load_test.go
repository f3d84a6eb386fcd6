package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func problemStrings(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestLoadReportsEveryProblemWithPosition(t *testing.T) {
	userData := `[dns]
refresh = "10d"
bogus = 1

[dns.accounts.dyn]
server = "https://members.dyndns.org"
username = "u"
password_file = "/etc/ec2boot/dyn.secret"

[[dns.records]]
name = "web-1.example.com"
address = "local-ipv4"
account = "dyn"

[[dns.records]]
name = "bad_name..example"
address = "elastic-ip"
account = "nope"
colour = "red"
`
	_, ps := Load(Source{Name: "user-data", Data: []byte(userData)})
	got := problemStrings(ps)
	// Unknown keys and every other problem, all in one go.
	want := []string{
		"user-data:3:1: dns.bogus: unknown key",
		`user-data:16:1: dns.records[1].name: "bad_name..example" is not a valid DNS name`,
		`user-data:17:1: dns.records[1].address: "elastic-ip" is not one of [local-ipv4 public-ipv4 ipv6 local-ipv4+ipv6 public-ipv4+ipv6]`,
		`user-data:18:1: dns.records[1].account: unknown account "nope"`,
		"user-data:19:1: dns.records[1].colour: unknown key",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("every problem (-want +got):\n%s", diff)
	}

	fixed := strings.Replace(strings.Replace(userData, "bogus = 1\n", "", 1), "colour = \"red\"\n", "", 1)
	_, ps = Load(Source{Name: "user-data", Data: []byte(fixed)})
	got = problemStrings(ps)
	want = []string{
		`user-data:15:1: dns.records[1].name: "bad_name..example" is not a valid DNS name`,
		`user-data:16:1: dns.records[1].address: "elastic-ip" is not one of [local-ipv4 public-ipv4 ipv6 local-ipv4+ipv6 public-ipv4+ipv6]`,
		`user-data:17:1: dns.records[1].account: unknown account "nope"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("semantic problems (-want +got):\n%s", diff)
	}
}

func TestLoadSyntaxAndTypeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"syntax", "[dns\nrefresh = 1", "user-data:2:5: expected"},
		{"type", "[disk]\nwarn_percent = \"lots\"", "user-data:2:1: disk.warn_percent: incompatible types"},
		{"duration", "[imds]\ntimeout = \"soon\"", "invalid duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps := Load(Source{Name: "user-data", Data: []byte(tt.src)})
			if cfg != nil || len(ps.Errors()) != 1 {
				t.Fatalf("want exactly one error, got cfg=%v problems=%v", cfg != nil, problemStrings(ps))
			}
			if s := ps[0].String(); !strings.Contains(s, tt.want) {
				t.Errorf("problem %q does not contain %q", s, tt.want)
			}
		})
	}
}

func TestUserDataOverridesLocal(t *testing.T) {
	local := `[dns.accounts.dyn]
server = "https://members.dyndns.org"
username = "baked"
password_file = "/etc/ec2boot/dyn.secret"
[disk]
warn_percent = 70
`
	userData := `[dns.accounts.dyn]
username = "launch"
[[dns.records]]
name = "a.example.com"
address = "public-ipv4"
account = "dyn"
`
	cfg, ps := Load(Source{Name: "/etc/ec2boot/config.toml", Data: []byte(local)}, Source{Name: "user-data", Data: []byte(userData)})
	if cfg == nil {
		t.Fatalf("load failed: %v", problemStrings(ps))
	}
	acct := cfg.DNS.Accounts["dyn"]
	if acct.Username != "launch" || acct.PasswordFile != "/etc/ec2boot/dyn.secret" || acct.Server == "" {
		t.Errorf("merged account = %+v, want user-data's username over the local server and password_file", acct)
	}
	if cfg.Disk.WarnPercent != 70 {
		t.Errorf("disk.warn_percent = %d, want the local 70", cfg.Disk.WarnPercent)
	}
	if len(cfg.DNS.Records) != 1 {
		t.Errorf("records = %v", cfg.DNS.Records)
	}
}

func TestProblemLocatedInTheSourceThatSetIt(t *testing.T) {
	local := "[disk]\nwarn_percent = 150\n"
	_, ps := Load(Source{Name: "config.toml", Data: []byte(local)}, Source{Name: "user-data", Data: []byte("[hosts]\n")})
	want := []string{"config.toml:2:1: disk.warn_percent: must be between 1 and 100, got 150"}
	if diff := cmp.Diff(want, problemStrings(ps)); diff != "" {
		t.Error(diff)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2")
	for _, out := range []string{s.String(), strings.TrimSpace(sprintAll(s))} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %q", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}

func TestCompleteExampleIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "config", "complete.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, ps := Load(Source{Name: "complete.toml", Data: b})
	if cfg == nil {
		t.Fatalf("complete example does not load:\n%s", strings.Join(problemStrings(ps), "\n"))
	}
}
