package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoute53Validation(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"zone by name, defaults", "provider = \"route53\"\nzone = \"fleet.example.com\"\n", nil},
		{"neither zone nor id", "provider = \"route53\"\n", []string{"user-data:1:2: dns.accounts.aws: needs zone_id or zone"}},
		{"both", "provider = \"route53\"\nzone = \"a.example.com\"\nzone_id = \"Z1ABC\"\n",
			[]string{"user-data:3:1: dns.accounts.aws.zone: give zone_id or zone, not both"}},
		{"bad id, private with id", "provider = \"route53\"\nzone_id = \"z-1\"\n",
			[]string{`user-data:3:1: dns.accounts.aws.zone_id: "z-1" is not a hosted zone ID (Z followed by letters and digits)`}},
		{"private with id", "provider = \"route53\"\nzone_id = \"/hostedzone/Z1ABC\"\nprivate = true\n",
			[]string{"user-data:4:1: dns.accounts.aws.private: only chooses among zones found by zone name; zone_id already names one"}},
		{"dyndns2 keys refused", "provider = \"route53\"\nzone = \"a.example.com\"\nttl = 999999\nusername = \"u\"\n",
			[]string{"user-data:4:1: dns.accounts.aws.ttl: 999999 is not between 1 and 172800 seconds",
				"user-data:5:1: dns.accounts.aws.username: is not a route53 setting (route53 signs with the instance role's credentials)"}},
		{"route53 key on dyndns2", "preset = \"dyn\"\nusername = \"u\"\npassword_file = \"/s\"\nwait = true\n",
			[]string{`user-data:5:1: dns.accounts.aws.wait: is a route53 setting; set provider = "route53" or remove it`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "[dns.accounts.aws]\n" + tc.src + "\n[[dns.records]]\nname = \"web.a.example.com\"\naddress = \"local-ipv4\"\naccount = \"aws\"\n"
			cfg, ps := Load(Source{Name: "user-data", Data: []byte(src)})
			got := problemStrings(ps.Errors())
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
			if tc.want == nil && (cfg == nil || cfg.DNS.Accounts["aws"].TTL < 1) {
				t.Errorf("valid config refused or TTL not defaulted: %+v", cfg)
			}
		})
	}
}
