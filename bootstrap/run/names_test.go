package run

import (
	"context"
	"strings"
	"testing"

	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// fleetUserData is one user-data for a whole group: every name a template.
const fleetUserData = `
[dns.accounts.dyn]
server = "http://127.0.0.1:1"
username = "u"
password_file = "/etc/ec2boot/dyn.password"

[[dns.records]]
name = "{{ .Tags.Name }}.internal.example.com"
address = "local-ipv4"
account = "dyn"

[[dns.records]]
name = "web-{{ .ShortID }}.example.com"
address = "local-ipv4"
account = "dyn"

[peers.roles]
zone = ["db.{{ .AvailabilityZone }}.example.com", "static.example.com"]
`

// namesStep records the names a step is given.
type namesStep struct {
	fakeStep
	seen *[]string
}

func (s *namesStep) Plan(ctx context.Context, env *step.Env) (step.Plan, error) {
	for _, r := range env.Config.DNS.Records {
		*s.seen = append(*s.seen, r.Name)
	}
	*s.seen = append(*s.seen, env.Config.Peers.Roles["zone"]...)
	return s.fakeStep.Plan(ctx, env)
}

// runFleet runs with steps facts, relocate, ddns, hosts, render; the last
// three record the names they are given.
func runFleet(t *testing.T, tags map[string]string, dryRun bool) (*fixture, *Report, []string) {
	t.Helper()
	fx := newFixture(t)
	fx.md.facts.InstanceID = "i-0123456789abcdef0"
	fx.md.facts.AvailabilityZone = "eu-west-1b"
	fx.md.facts.Tags, fx.md.facts.TagsAvailable = tags, tags != nil
	fx.md.userData = []byte(fleetUserData)
	var seen []string
	var steps []step.Step
	for _, n := range []string{"facts", "relocate", "ddns", "hosts", "render"} {
		s := &namesStep{fakeStep: fakeStep{name: n, calls: &fx.calls}, seen: &seen}
		if !usesNames(n) {
			steps = append(steps, &s.fakeStep)
		} else {
			steps = append(steps, s)
		}
	}
	rep := Run(context.Background(), Options{
		Root: hostfs.Root(fx.root), Metadata: fx.md, Log: logging.Discard(), Out: &fx.out,
		Clock: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)), Version: "test",
		DryRun: dryRun, LockWait: 50 * time.Millisecond, Steps: steps,
	})
	return fx, rep, seen
}

// One user-data, the names made from this instance's facts: every step
// that uses names sees them made, never the templates.
func TestRunMakesNamesFromFacts(t *testing.T) {
	_, rep, seen := runFleet(t, map[string]string{"Name": "web-3"}, false)
	if rep.ExitCode != ExitOK {
		t.Fatalf("exit %d: %+v", rep.ExitCode, rep)
	}
	one := []string{"web-3.internal.example.com", "web-9abcdef0.example.com", "db.eu-west-1b.example.com", "static.example.com"}
	want := append(append(append([]string{}, one...), one...), one...)
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("names the steps saw (-want +got):\n%s", diff)
	}
}

// A tag the template needs is absent: one error naming the key, the
// template and the tag; the steps that use names do not run at all (nothing
// sent, nothing written), the others do; exit 2.
func TestRunNameWithMissingTag(t *testing.T) {
	fx, rep, seen := runFleet(t, map[string]string{"Team": "x"}, false)
	if rep.ExitCode != ExitStepFailed {
		t.Errorf("exit %d, want %d", rep.ExitCode, ExitStepFailed)
	}
	if len(seen) > 0 {
		t.Errorf("steps saw names %q", seen)
	}
	if diff := cmp.Diff([]string{"plan facts", "apply facts", "plan relocate", "apply relocate"}, fx.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	want := `not run (nothing sent, nothing written): invalid configuration: dns.records[0].name: template "{{ .Tags.Name }}.internal.example.com": needs the tag "Name", which this instance does not have (its tags: Team)`
	for _, s := range rep.Steps {
		switch {
		case usesNames(s.Name) && (s.Status != "failed" || s.Error != want):
			t.Errorf("step %s: %s %q\nwant failed %q", s.Name, s.Status, s.Error, want)
		case !usesNames(s.Name) && s.Status == "failed":
			t.Errorf("step %s failed: %s", s.Name, s.Error)
		}
	}
}

// plan shows each name made, and what it was made from.
func TestPlanShowsNames(t *testing.T) {
	fx, rep, _ := runFleet(t, map[string]string{"Name": "web-3"}, true)
	if rep.ExitCode != ExitOK {
		t.Fatalf("exit %d", rep.ExitCode)
	}
	want := `== names
  dns.records[0].name: {{ .Tags.Name }}.internal.example.com -> web-3.internal.example.com
  dns.records[1].name: web-{{ .ShortID }}.example.com -> web-9abcdef0.example.com
  peers.roles.zone[0]: db.{{ .AvailabilityZone }}.example.com -> db.eu-west-1b.example.com
`
	if got := fx.out.String(); !strings.HasPrefix(got, want) {
		t.Errorf("plan output:\n%s\nwant it to start with:\n%s", got, want)
	}
}

// A template naming a fact that does not exist is a configuration error:
// one line with its position, no step runs, exit 1. A tag value that makes
// an invalid label and a name of 300 characters are names that cannot be
// made: exit 2, the steps that use names do not run.
func TestRunBadNameTemplates(t *testing.T) {
	for _, tc := range []struct {
		name, record string
		tags         map[string]string
		code         int
		want         string
		calls        []string
	}{
		{"unknown fact", "{{ .Tag.Name }}.example.com", map[string]string{"Name": "web-3"}, ExitInvalid,
			`user-data:2:1: dns.records[0].name: template "{{ .Tag.Name }}.example.com": unknown fact .Tag`, nil},
		{"invalid label", "{{ .Tags.Name }}.example.com", map[string]string{"Name": "web 3"}, ExitStepFailed,
			`dns.records[0].name: template "{{ .Tags.Name }}.example.com": expands to "web 3.example.com", which has the label "web 3" with ' ' in it`,
			[]string{"plan facts", "apply facts"}},
		{"300 characters", "{{ .Tags.Name }}" + strings.Repeat(".abcdefghij", 25) + ".abcdefg.example.com", map[string]string{"Name": "web-3"}, ExitStepFailed,
			"which is 300 characters long, over the 253 a DNS name may have", []string{"plan facts", "apply facts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.md.facts.Tags, fx.md.facts.TagsAvailable = tc.tags, true
			fx.md.userData = []byte(`[[dns.records]]
name = '` + tc.record + `'
address = "local-ipv4"
account = "dyn"
[dns.accounts.dyn]
server = "http://127.0.0.1:1"
username = "u"
password_file = "/etc/ec2boot/dyn.password"
`)
			fx.step("facts")
			fx.step("ddns")
			fx.step("hosts")
			rep := fx.run(t, false)
			if rep.ExitCode != tc.code {
				t.Errorf("exit %d, want %d: %+v", rep.ExitCode, tc.code, rep)
			}
			if diff := cmp.Diff(tc.calls, fx.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			all := rep.Message
			for _, s := range rep.Steps {
				all += "\n" + s.Error
			}
			if !strings.Contains(all, tc.want) {
				t.Errorf("report lacks %q:\n%s", tc.want, all)
			}
		})
	}
}
