package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPublishValidation(t *testing.T) {
	doc := `[dns.accounts.dyn]
server = "https://dyn.example.com"
username = "u"
password_file = "/etc/ec2boot/dyn.pw"

[dns.accounts.corp]
provider = "rfc2136"
server = "10.0.0.2"
zone = "example.com"
key_file = "/etc/ec2boot/corp.key"

[peers.discover.web]
source = "dns"
record = "web.roles.example.com"
publish = { account = "corp", address = "local-ipv4" }

[peers.discover.queue]
source = "dns"
record = "queue.roles.example.com"
publish = { account = "dyn", address = "private" }

[peers.discover.db]
source = "dns"
record = "db.roles.example.com"
publish = { account = "nope" }

[peers.discover.cache]
source = "ec2"
tag = { Role = "cache" }
publish = { account = "corp" }

[peers.discover.mq]
source = "dns"
record = "mq.roles.example.com"
publish = { address = "ipv6" }
`
	_, ps := Load(Source{Name: "user-data", Data: []byte(doc)})
	want := []string{
		`user-data:20:1: peers.discover.queue.publish.address: "private": use local-ipv4, public-ipv4 or ipv6`,
		`user-data:20:1: peers.discover.queue.publish.account: account dyn is a dyndns2 account: a role record is written through an rfc2136 or route53 account`,
		`user-data:25:1: peers.discover.db.publish.account: no account "nope" in dns.accounts`,
		`user-data:30:1: peers.discover.cache.publish: only for source = "dns": an ec2 role's members are found by their tags and publish nothing`,
		`user-data:35:1: peers.discover.mq.publish.account: publish needs the dns.accounts entry it writes through, e.g. account = "corp"`,
	}
	if d := cmp.Diff(want, problemStrings(ps)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	good := doc[:strings.Index(doc, "[peers.discover.queue]")]
	cfg, ps := Load(Source{Name: "user-data", Data: []byte(good)})
	if len(ps) > 0 {
		t.Fatalf("a valid publish: %v", problemStrings(ps))
	}
	if p := cfg.Peers.Discover["web"].Publish; p == nil || p.Account != "corp" || p.PublishAddress() != "local-ipv4" {
		t.Errorf("web's publish = %+v", p)
	}
}
