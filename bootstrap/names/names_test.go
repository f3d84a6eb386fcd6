package names_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

func web3() names.Data {
	return names.Data{
		InstanceID: "i-0123456789abcdef0", ShortID: "9abcdef0", LaunchIndex: "2", InstanceType: "t3.micro",
		LifeCycle: "spot", AvailabilityZone: "eu-west-1b", Region: "eu-west-1",
		LocalIPv4: "10.0.1.23", LocalIPv4Dashed: "10-0-1-23",
		Tags:          map[string]string{"Name": "web-3", "aws:autoscaling:groupName": "web-asg", "Role": "web server"},
		TagsAvailable: true,
	}
}

func TestExpand(t *testing.T) {
	for _, tc := range []struct{ tmpl, want string }{
		{"web.example.com", "web.example.com"},
		{"web-{{ .ShortID }}.internal.example.com", "web-9abcdef0.internal.example.com"},
		{"{{ .InstanceID }}.example.com", "i-0123456789abcdef0.example.com"},
		{"{{ .Tags.Name }}.internal.example.com", "web-3.internal.example.com"},
		{`{{ tag "aws:autoscaling:groupName" }}-{{ .LaunchIndex }}.example.com`, "web-asg-2.example.com"},
		{`{{ index .Tags "aws:autoscaling:groupName" }}.example.com`, "web-asg.example.com"},
		{"ip-{{ .LocalIPv4Dashed }}.{{ .AvailabilityZone }}.example.com", "ip-10-0-1-23.eu-west-1b.example.com"},
		{"{{ .LifeCycle }}-{{ .ShortID }}.{{ .Region }}.example.com", "spot-9abcdef0.eu-west-1.example.com"},
		{`{{ .Tags.Name | upper }}.example.com`, "WEB-3.example.com"},
		{`{{ replace " " "-" (tag "Role") }}.example.com`, "web-server.example.com"},
		{`{{ if eq .LifeCycle "spot" }}s{{ else }}o{{ end }}-{{ .ShortID }}.example.com`, "s-9abcdef0.example.com"},
		{`{{ print .Tags.Name "-" .LaunchIndex }}.example.com`, "web-3-2.example.com"},
		{`{{ with .Tags }}{{ .Name }}{{ end }}.example.com`, "web-3.example.com"},
		{`{{ $.Tags.Name }}.example.com`, "web-3.example.com"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			tm, err := names.Parse(tc.tmpl)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tm.Expand(web3())
			if err != nil {
				t.Fatalf("Expand: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Bad templates are refused by Parse, without any facts: one error each,
// naming what is wrong.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ tmpl, want string }{
		{"{{ .Bogus }}.example.com", `unknown fact .Bogus (known: .InstanceID, .ShortID`},
		{"{{ .InstanceID.Short }}.example.com", ".InstanceID has no field Short"},
		{"{{ .Tags.Name.x }}.example.com", ".Tags.Name has no field x"},
		{"{{ .ShortID .example.com", "syntax: "},
		{"{{ nope }}.example.com", `syntax: function "nope" not defined`},
		{`{{ tag .Tags }}.example.com`, "tag takes a quoted key"},
		{`{{ define "x" }}a{{ end }}{{ template "x" }}.example.com`, "define, block and template are not allowed"},
		{`{{ $.Nope }}.example.com`, "unknown fact .Nope"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			_, err := names.Parse(tc.tmpl)
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			var ne *names.Error
			if !errors.As(err, &ne) || ne.Template != tc.tmpl || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the template and %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// Facts that are absent, and results that are no DNS name: one error
// naming the missing fact or the bad label.
func TestExpandErrors(t *testing.T) {
	noTags := web3()
	noTags.Tags, noTags.TagsAvailable = nil, false
	noIP := web3()
	noIP.LocalIPv4, noIP.LocalIPv4Dashed = "", ""
	// web-3 (5), 25 labels of 10 and their dots (275), .abcdefg (8), .example.com (12): 300.
	long := "{{ .Tags.Name }}" + strings.Repeat(".abcdefghij", 25) + ".abcdefg.example.com"
	for _, tc := range []struct {
		name, tmpl string
		data       names.Data
		want       names.Error
	}{
		{"absent tag", "{{ .Tags.Team }}.example.com", web3(), names.Error{Missing: "tag Team",
			Reason: `needs the tag "Team", which this instance does not have (its tags: Name, Role, aws:autoscaling:groupName)`}},
		{"absent tag through tag", `{{ tag "Team" }}.example.com`, web3(), names.Error{Missing: "tag Team",
			Reason: `needs the tag "Team", which this instance does not have (its tags: Name, Role, aws:autoscaling:groupName)`}},
		{"tags not enabled", "{{ .Tags.Name }}.example.com", noTags, names.Error{Missing: "tag Name",
			Reason: `needs the tag "Name", but the instance metadata service serves no tags: enable instance metadata tags in the launch template (InstanceMetadataTags=enabled)`}},
		{"absent fact", "ip-{{ .LocalIPv4Dashed }}.example.com", noIP, names.Error{Missing: "LocalIPv4Dashed",
			Reason: "needs LocalIPv4Dashed, which this instance does not have"}},
		{"invalid label", `{{ tag "Role" }}.example.com`, web3(), names.Error{Result: "web server.example.com",
			Reason: `expands to "web server.example.com", which has the label "web server" with ' ' in it (only letters, digits, '-' and '_' are allowed)`}},
		{"300 characters", long, web3(), names.Error{Result: "web-3" + strings.Repeat(".abcdefghij", 25) + ".abcdefg.example.com",
			Reason: `expands to "web-3.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcde...", which is 300 characters long, over the 253 a DNS name may have`}},
		{"dotted address in a label", "ip-{{ .LocalIPv4 }}-.example.com", web3(), names.Error{Result: "ip-10.0.1.23-.example.com",
			Reason: `expands to "ip-10.0.1.23-.example.com", which has the label "23-", which starts or ends with '-'`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := names.Parse(tc.tmpl)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tm.Expand(tc.data)
			var ne *names.Error
			if !errors.As(err, &ne) {
				t.Fatalf("Expand = %q, %v; want a *names.Error", got, err)
			}
			tc.want.Template = tc.tmpl
			if diff := cmp.Diff(&tc.want, ne); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShortID(t *testing.T) {
	for in, want := range map[string]string{
		"i-0123456789abcdef0": "9abcdef0",
		"i-12345678":          "12345678",
		"i-abc":               "abc",
	} {
		if got := names.ShortID(in); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckHostname(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"web-3.example.com", true}, {"web-3.example.com.", true}, {"_dmarc.example.com", true},
		{"", false}, {"a..b", false}, {"-a.b", false}, {"a-.b", false}, {"é.example.com", false},
		{strings.Repeat("a", 63) + ".b", true}, {strings.Repeat("a", 64) + ".b", false},
		{strings.Repeat("a.", 126) + "a", true}, {strings.Repeat("a.", 127) + "a", false},
	} {
		if got := names.IsHostname(tc.name); got != tc.ok {
			t.Errorf("IsHostname(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// FuzzParse: any text either parses or is refused with an error; a parsed
// template expands to a valid name or to an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"{{ .Tags.Name }}.example.com", `{{ tag "a:b" }}.x`, "{{ with .Tags }}{{ .Name }}{{ end }}",
		"{{ .X", "{{ range .Tags }}{{ . }}{{ end }}.x", "{{ $.Tags.Name }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := names.Parse(s)
		if err != nil {
			return
		}
		out, err := tm.Expand(web3())
		if err == nil && !names.IsHostname(out) {
			t.Fatalf("%q expanded to the invalid name %q", s, out)
		}
	})
}

// No template can run for ever or make a name of unbounded size: loops
// and printf's widths are refused, replace and the output are bounded.
func TestExpandBounded(t *testing.T) {
	for _, tc := range []struct{ tmpl, parseErr, expandErr string }{
		{`{{ range 100000000000 }}{{ end }}.example.com`, "range is not allowed in a name", ""},
		{`{{ printf "%099999999d" 1 }}.example.com`, "printf is not allowed in a name", ""},
		{`{{ 1 | printf "%099999999d" }}.example.com`, "printf is not allowed in a name", ""},
		{`{{ replace "" "0123456789" (replace "" "0123456789" (replace "" "0123456789" .ShortID)) }}.example.com`, "", "expands to more than 1024 characters"},
		{"{{ .ShortID }}" + strings.Repeat("{{ .InstanceID }}", 60) + ".example.com", "", "expands to more than 1024 characters"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			tm, err := names.Parse(tc.tmpl)
			if tc.parseErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.parseErr) {
					t.Fatalf("Parse error = %v, want %q", err, tc.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if _, err = tm.Expand(web3()); err == nil || !strings.Contains(err.Error(), tc.expandErr) {
				t.Errorf("Expand error = %v, want %q", err, tc.expandErr)
			}
		})
	}
}
