package rfc2136

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

const secret32 = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="

func TestParseKeyFile(t *testing.T) {
	cases := []struct {
		name, file, keyName, alg string
		want                     Key
		err                      string
	}{
		{name: "tsig-keygen output", file: "key \"ddns-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret32 + "\";\n};\n",
			want: Key{Name: "ddns-key.", Algorithm: dns.HmacSHA256, Secret: secret32}},
		{name: "comments and sha512", file: "# made by hand\n// for web\nkey web-key { /* x */ algorithm hmac-sha512; secret \"" + secret32 + "\"; };",
			want: Key{Name: "web-key.", Algorithm: dns.HmacSHA512, Secret: secret32}},
		{name: "two keys, one picked", keyName: "b", file: "key a { algorithm hmac-sha256; secret \"" + secret32 + "\"; };\nkey b { algorithm hmac-sha384; secret \"" + secret32 + "\"; };",
			want: Key{Name: "b.", Algorithm: dns.HmacSHA384, Secret: secret32}},
		{name: "bare secret", keyName: "web-key", file: secret32 + "\n",
			want: Key{Name: "web-key.", Algorithm: dns.HmacSHA256, Secret: secret32}},
		{name: "bare secret, sha1", keyName: "web-key", alg: "hmac-sha1", file: secret32,
			want: Key{Name: "web-key.", Algorithm: dns.HmacSHA1, Secret: secret32}},
		{name: "bare secret without key_name", file: secret32, err: "set key_name"},
		{name: "two keys, none picked", file: "key a { algorithm hmac-sha256; secret \"" + secret32 + "\"; };key b { algorithm hmac-sha256; secret \"" + secret32 + "\"; };", err: "several key statements"},
		{name: "md5 refused", file: "key a { algorithm hmac-md5; secret \"" + secret32 + "\"; };", err: "MD5 is broken"},
		{name: "algorithm disagrees", alg: "hmac-sha512", file: "key a { algorithm hmac-sha256; secret \"" + secret32 + "\"; };", err: "algorithm says hmac-sha512"},
		{name: "not base64", keyName: "k", file: "not*base64", err: "not base64"},
		{name: "short secret", keyName: "k", file: "c2hvcnQ=", err: "at least 16"},
		{name: "missing semicolon", file: "key a { algorithm hmac-sha256 secret \"x\"; };", err: "want \";\""},
		{name: "other statement", file: "options { };", err: "only key statements"},
		{name: "wrong key name", keyName: "zz", file: "key a { algorithm hmac-sha256; secret \"" + secret32 + "\"; };", err: "no key statement named \"zz\""},
		{name: "empty", file: "\n", err: "empty"},
		{name: "too large", file: strings.Repeat("#", maxKeyFile+1), err: "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKeyFile([]byte(c.file), c.keyName, c.alg)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("key (-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte("key \"ddns-key\" {\n\talgorithm hmac-sha256;\n\tsecret \""+secret32+"\";\n};\n"), "")
	f.Add([]byte(secret32), "k")
	f.Add([]byte("key a { /* */ algorithm hmac-md5; secret \"x\"; }; # c"), "a")
	f.Fuzz(func(t *testing.T, data []byte, keyName string) {
		k, err := ParseKeyFile(data, keyName, "")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		// A key that parses can sign.
		if _, ok := dns.IsDomainName(k.Name); !ok || checkSecret(k.Secret) != nil {
			t.Errorf("parsed an unusable key %+v", k)
		}
		if strings.Contains(k.Algorithm, "md5") {
			t.Errorf("accepted md5")
		}
	})
}

func TestOwnerValueRoundTrip(t *testing.T) {
	o := Owner{InstanceID: "i-0abc", LaunchTime: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
	if got := o.Value(); got != "heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z" {
		t.Errorf("value %q", got)
	}
	back, ok := ParseOwner(o.Value())
	if !ok || !back.LaunchTime.Equal(o.LaunchTime) || back.InstanceID != o.InstanceID {
		t.Errorf("round trip %+v %v", back, ok)
	}
	for _, foreign := range []string{"heritage=external-dns,external-dns/owner=default", "v=spf1 -all", "heritage=ec2boot,ec2boot/instance-id=i-1"} {
		if _, ok := ParseOwner(foreign); ok {
			t.Errorf("%q parsed as ec2boot's owner", foreign)
		}
	}
}

func FuzzParseOwner(f *testing.F) {
	f.Add("heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z")
	f.Add("heritage=external-dns,external-dns/owner=default")
	f.Fuzz(func(t *testing.T, v string) {
		o, ok := ParseOwner(v)
		if !ok {
			return
		}
		// What parses renders to a value that parses the same.
		back, ok := ParseOwner(o.Value())
		if !ok || back.InstanceID != o.InstanceID || !back.LaunchTime.Equal(o.LaunchTime) {
			t.Errorf("%q -> %+v -> %q -> %+v", v, o, o.Value(), back)
		}
	})
}

func TestOwnerRRs(t *testing.T) {
	o := Owner{InstanceID: "i-0abc", LaunchTime: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
	text := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
		}
		return out
	}
	pre, upd := OwnerRRs("web.example.test", o, nil, 300)
	want := []string{"_ec2boot.web.example.test. 0 NONE TXT "}
	if d := cmp.Diff(want, text(pre)); d != "" {
		t.Errorf("prerequisite for a new owner (-want +got):\n%s", d)
	}
	wantUpd := []string{"_ec2boot.web.example.test. 0 CLASS255 TXT ", `_ec2boot.web.example.test. 300 IN TXT "` + o.Value() + `"`}
	if d := cmp.Diff(wantUpd, text(upd)); d != "" {
		t.Errorf("update (-want +got):\n%s", d)
	}
	old := []dns.RR{OwnerRR(Owner{InstanceID: "i-0old", LaunchTime: o.LaunchTime}, "web.example.test", 60)}
	pre, _ = OwnerRRs("web.example.test", o, old, 300)
	if d := cmp.Diff([]string{`_ec2boot.web.example.test. 0 IN TXT "heritage=ec2boot,ec2boot/instance-id=i-0old,ec2boot/launch-time=2026-12-07T04:00:00Z"`}, text(pre)); d != "" {
		t.Errorf("prerequisite on the old owner (-want +got):\n%s", d)
	}
	if old[0].Header().Ttl != 60 {
		t.Error("OwnerRRs changed the caller's record")
	}
}

func TestDescribe(t *testing.T) {
	c := &Client{Server: "192.0.2.53:5353", Zone: "example.test", TTL: 300,
		Key: Key{Name: "web-key.", Algorithm: dns.HmacSHA256, Secret: secret32}}
	got := c.Describe([]Change{{Name: "web.example.test", Addrs: addrs("192.0.2.1", "2001:db8::1")}})
	want := `server 192.0.2.53 5353
zone example.test
key hmac-sha256:web-key [secret redacted]
; prerequisite: each set below still holds the values read from the server just before sending
update delete web.example.test. A
update add web.example.test. 300 A 192.0.2.1
update delete web.example.test. AAAA
update add web.example.test. 300 AAAA 2001:db8::1
send`
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("describe (-want +got):\n%s", d)
	}
	if strings.Contains(got, secret32) {
		t.Error("secret in the description")
	}
}

// TestDocsShowTheTestedPolicies keeps docs/dns.md's server examples and
// plan output the ones the tests use.
func TestDocsShowTheTestedPolicies(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "dns.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := string(b)
	c := &Client{Server: "192.0.2.53:53", Zone: "example.test", TTL: 300, Key: Key{Name: "web-key.", Algorithm: dns.HmacSHA256}}
	plan := c.Describe([]Change{{Name: "web.example.test", Addrs: addrs("10.200.0.1")}})
	example, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "rfc2136", "example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"BIND update-policy": "update-policy {\n" + BindPolicy + "\n};",
		"Knot ACL": "acl:\n" + KnotACL, "plan output": plan, "example": string(example)} {
		if !strings.Contains(docs, text) {
			t.Errorf("docs/dns.md does not show the %s the tests use:\n%s", what, text)
		}
	}
}
