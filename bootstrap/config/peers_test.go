package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPeersHostsTemplatesValidation(t *testing.T) {
	doc := `[peers]
nameserver = "ns1.example.test"
min_keep = 1.5

[peers.roles]
db = ["db-1.example.test", "DB-1.example.test.", "instance-data.ec2.internal"]
"web.tier" = ["localhost"]

[hosts]
path = "etc/hosts"

[[templates]]
source = "a.tmpl"
destination = "/etc/app/a.conf"
check = ["", "x"]
reload = ["nginx service"]
owner = "www:www"

[[templates]]
source = "b.tmpl"
destination = "/etc/app/a.conf"
mode = "999"
`
	_, ps := Load(Source{Name: "user-data", Data: []byte(doc)})
	want := []string{
		`user-data:2:1: peers.nameserver: "ns1.example.test" is not an address such as "10.0.0.2" or "10.0.0.2:53"`,
		`user-data:3:1: peers.min_keep: must be between 0 and 1, got 1.5`,
		`user-data:6:1: peers.roles.db[1]: "DB-1.example.test." is already peers.roles.db[0]`,
		`user-data:6:1: peers.roles.db[2]: "instance-data.ec2.internal" would shadow the instance metadata service or localhost`,
		`user-data:7:1: peers.roles.web.tier: role name "web.tier": use letters, digits and hyphens`,
		`user-data:7:1: peers.roles.web.tier[0]: "localhost" would shadow the instance metadata service or localhost`,
		`user-data:10:1: hosts.path: must be an absolute path, got "etc/hosts"`,
		`user-data:15:1: templates[0].check: the program (first element) is empty`,
		`user-data:16:1: templates[0].reload[0]: "nginx service" is not a systemd unit name`,
		`user-data:17:1: templates[0].owner: "www:www" is not a user or group name or number`,
		`user-data:21:1: templates[1].destination: /etc/app/a.conf is also the destination of templates[0]`,
		`user-data:22:1: templates[1].mode: "999" is not an octal file mode such as "0644"`,
	}
	if d := cmp.Diff(want, problemStrings(ps)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestNameserverAddr(t *testing.T) {
	for in, want := range map[string]string{"": "", "10.0.0.2": "10.0.0.2:53", "10.0.0.2:5353": "10.0.0.2:5353", "::1": "[::1]:53", "[::1]:53": "[::1]:53"} {
		if got := (&Peers{Nameserver: in}).NameserverAddr(); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
