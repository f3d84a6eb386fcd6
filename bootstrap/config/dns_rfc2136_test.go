package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRFC2136AccountDefaults(t *testing.T) {
	src := `[dns.accounts.z]
provider = "rfc2136"
server = "192.0.2.53"
key_file = "/etc/ec2boot/web.key"

[[dns.records]]
name = "web.example.test"
address = "local-ipv4"
account = "z"
`
	cfg, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	if cfg == nil {
		t.Fatal(problemStrings(ps))
	}
	a := cfg.DNS.Accounts["z"]
	got := []any{a.Server, a.TTL, a.Algorithm, a.Path, a.Zone}
	if d := cmp.Diff([]any{"192.0.2.53:53", 300, "hmac-sha256", "", ""}, got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
}

func TestRFC2136AccountErrors(t *testing.T) {
	src := `[dns.accounts.a]
provider = "rfc2136"
server = "https://ns1.example.test/"
zone = "bad zone"
key_file = "relative.key"
algorithm = "hmac-md5"
ttl = 100000
username = "u"

[dns.accounts.b]
provider = "rfc2136"
algorithm = "hmac-sha3"

[dns.accounts.c]
server = "https://members.dyndns.org"
username = "u"
password_file = "/s"
key_file = "/k"
`
	_, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	want := []string{
		`user-data:3:1: dns.accounts.a.server: "https://ns1.example.test/" is not host or host:port (rfc2136 takes no URL)`,
		`user-data:4:1: dns.accounts.a.zone: "bad zone" is not a valid DNS name`,
		`user-data:5:1: dns.accounts.a.key_file: must be an absolute path, got "relative.key"`,
		"user-data:6:1: dns.accounts.a.algorithm: hmac-md5 is refused: MD5 is broken and RFC 8945 deprecates it; make a new key with tsig-keygen -a hmac-sha256",
		"user-data:7:1: dns.accounts.a.ttl: 100000 is outside 1..86400 seconds",
		"user-data:8:1: dns.accounts.a.username: is a dyndns2 setting; rfc2136 accounts do not take it",
		"user-data:10:2: dns.accounts.b: needs key_file (a BIND key statement or a base64 secret)",
		`user-data:12:1: dns.accounts.b.algorithm: "hmac-sha3" is not one of hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1`,
		`user-data:18:1: dns.accounts.c.key_file: is an rfc2136 setting; set provider = "rfc2136" or remove it`,
	}
	got := problemStrings(ps.Errors())
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

func TestTSIGSecretInUserDataIsRefused(t *testing.T) {
	src := "[dns.accounts.a]\nprovider = \"rfc2136\"\nkey_file = \"/k\"\nsecret = \"c2VjcmV0\"\nkey = \"k\"\n"
	_, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	hint := "unknown key: a TSIG secret is never taken from user-data (any local process can read it through the metadata service); put it in a root-only file and set key_file"
	want := []string{"user-data:4:1: dns.accounts.a.secret: " + hint, "user-data:5:1: dns.accounts.a.key: " + hint}
	if d := cmp.Diff(want, problemStrings(ps.Errors())); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}
