package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

const namesAccount = `[dns.accounts.dyn]
server = "http://127.0.0.1:8245"
username = "u"
password_file = "/etc/ec2boot/dyn.secret"
`

func recordsDoc(names ...string) string {
	var b strings.Builder
	b.WriteString(namesAccount)
	for _, n := range names {
		b.WriteString("[[dns.records]]\nname = '" + n + "'\naddress = \"local-ipv4\"\naccount = \"dyn\"\n")
	}
	return b.String()
}

func fleetData() names.Data {
	return names.Data{InstanceID: "i-0123456789abcdef0", ShortID: "9abcdef0", LaunchIndex: "0",
		AvailabilityZone: "eu-west-1b", Region: "eu-west-1", LocalIPv4: "10.0.1.23", LocalIPv4Dashed: "10-0-1-23",
		Tags: map[string]string{"Name": "web-3", "Role": "web server"}, TagsAvailable: true}
}

// Templates are checked at load for syntax and facts, with line and column;
// the literal rules (fully qualified) apply once they are made.
func TestNameTemplatesAtLoad(t *testing.T) {
	src := recordsDoc("{{ .Tags.Name }}.internal.example.com", "{{ .Bogus }}.example.com", "{{ .ShortID .example.com") +
		"[peers.roles]\nweb = ['{{ .Nope }}.example.com', 'ok-{{ .ShortID }}.example.com']\n"
	_, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	want := []string{
		`user-data:10:1: dns.records[1].name: template "{{ .Bogus }}.example.com": unknown fact .Bogus (known: .InstanceID, .ShortID, .LaunchIndex, .InstanceType, .LifeCycle, .AvailabilityZone, .Region, .LocalIPv4, .LocalIPv4Dashed, .Tags)`,
		`user-data:14:1: dns.records[2].name: template "{{ .ShortID .example.com": syntax: unclosed action`,
		`user-data:18:1: peers.roles.web[0]: template "{{ .Nope }}.example.com": unknown fact .Nope (known: .InstanceID, .ShortID, .LaunchIndex, .InstanceType, .LifeCycle, .AvailabilityZone, .Region, .LocalIPv4, .LocalIPv4Dashed, .Tags)`,
	}
	if diff := cmp.Diff(want, problemStrings(ps)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestExpandNames(t *testing.T) {
	src := recordsDoc("{{ .Tags.Name }}.internal.example.com", "static.example.com") +
		"[peers.roles]\nweb = ['db-{{ .AvailabilityZone }}.example.com', 'static.example.com']\n"
	cfg, ps := Load(Source{Name: "user-data", Data: []byte(src)})
	if cfg == nil {
		t.Fatalf("load: %v", problemStrings(ps))
	}
	if !cfg.HasNameTemplates() {
		t.Error("HasNameTemplates = false")
	}
	out, ps := cfg.ExpandNames(fleetData())
	if out == nil {
		t.Fatalf("ExpandNames: %v", problemStrings(ps))
	}
	got := []string{out.DNS.Records[0].Name, out.DNS.Records[1].Name}
	got = append(got, out.Peers.Roles["web"]...)
	if diff := cmp.Diff([]string{"web-3.internal.example.com", "static.example.com", "db-eu-west-1b.example.com", "static.example.com"}, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if cfg.DNS.Records[0].Name != "{{ .Tags.Name }}.internal.example.com" || cfg.Peers.Roles["web"][0] != "db-{{ .AvailabilityZone }}.example.com" {
		t.Error("ExpandNames changed the configuration it was called on")
	}
}

// Bad input at expansion: one error each, naming the key, the template and
// what is missing or wrong.
func TestExpandNamesErrors(t *testing.T) {
	noTags := fleetData()
	noTags.Tags, noTags.TagsAvailable = nil, false
	long := "{{ .Tags.Name }}" + strings.Repeat(".abcdefghij", 25) + ".abcdefg.example.com"
	for _, tc := range []struct {
		name, tmpl string
		data       names.Data
		want       string
	}{
		{"absent tag", "{{ .Tags.Team }}.example.com", fleetData(),
			`dns.records[0].name: template "{{ .Tags.Team }}.example.com": needs the tag "Team", which this instance does not have (its tags: Name, Role)`},
		{"tags not enabled", "{{ .Tags.Name }}.example.com", noTags,
			`dns.records[0].name: template "{{ .Tags.Name }}.example.com": needs the tag "Name", but the instance metadata service serves no tags: enable instance metadata tags in the launch template (InstanceMetadataTags=enabled)`},
		{"invalid label", `{{ .Tags.Role }}.example.com`, fleetData(),
			`dns.records[0].name: template "{{ .Tags.Role }}.example.com": expands to "web server.example.com", which has the label "web server" with ' ' in it (only letters, digits, '-' and '_' are allowed)`},
		{"300 characters", long, fleetData(),
			`dns.records[0].name: template "` + long + `": expands to "web-3.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcde...", which is 300 characters long, over the 253 a DNS name may have`},
		{"not fully qualified", "{{ .Tags.Name }}", fleetData(),
			`dns.records[0].name: template "{{ .Tags.Name }}": expands to "web-3", which is not fully qualified (providers answer notfqdn)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ps := Load(Source{Name: "user-data", Data: []byte(recordsDoc(tc.tmpl))})
			if cfg == nil {
				t.Fatalf("load: %v", problemStrings(ps))
			}
			out, ps := cfg.ExpandNames(tc.data)
			if out != nil {
				t.Errorf("ExpandNames gave a configuration")
			}
			if diff := cmp.Diff([]string{tc.want}, problemStrings(ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// Two templates that make one name for one account are one error.
func TestExpandNamesDuplicate(t *testing.T) {
	cfg, ps := Load(Source{Name: "user-data", Data: []byte(recordsDoc("{{ .Tags.Name }}.example.com", "web-3.example.com"))})
	if cfg == nil {
		t.Fatalf("load: %v", problemStrings(ps))
	}
	_, ps = cfg.ExpandNames(fleetData())
	want := []string{`dns.records[1].name: "web-3.example.com" with account "dyn" is also dns.records[0]`}
	if diff := cmp.Diff(want, problemStrings(ps)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
