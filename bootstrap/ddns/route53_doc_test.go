package ddns

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// route53Section is docs/dns.md's Route 53 section.
func route53Section(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/dns.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Amazon Route 53\n")
	if i < 0 {
		t.Fatal("docs/dns.md has no Route 53 section")
	}
	s = s[i:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	return s
}

func fenced(section, lang string) []string {
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestRoute53DocExample runs the documented configuration (its zone ID
// replaced by the test zone's) through the step against the Route 53 peer.
func TestRoute53DocExample(t *testing.T) {
	blocks := fenced(route53Section(t), "toml")
	if len(blocks) != 1 {
		t.Fatalf("%d toml examples in the Route 53 section, want 1", len(blocks))
	}
	w := newR53World(t)
	src := strings.Replace(blocks[0], "Z0123456789ABCDEFGHIJ", w.zone.ID, 1)
	src = strings.ReplaceAll(src, "fleet.example.com", "example.test")
	cfg, ps := config.Load(config.Source{Name: "docs/dns.md", Data: []byte(src)})
	if cfg == nil || len(ps.Warnings()) > 0 {
		t.Fatalf("the documented example does not load cleanly: %v", ps)
	}
	in := w.instance(t, "i-0d0c0000000000001", time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC), publicIP)
	cfg, ps = cfg.ExpandNames(in.facts.NameData())
	if cfg == nil {
		t.Fatalf("names: %v", ps)
	}
	store, err := state.Open(in.root.Path(state.Dir), in.facts.InstanceID, false)
	if err != nil {
		t.Fatal(err)
	}
	f := in.facts
	env := &step.Env{Root: in.root, Config: cfg, Facts: &f, State: store, Log: logging.New(&in.log, logging.JSON, true),
		Clock: in.clock, Version: testVersion, IMDSEndpoint: w.imds.URL}
	p, err := NewStep().Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	name := cfg.DNS.Records[0].Name
	if a := w.lookup(t, name); len(a) != 1 || a[0] != localIP {
		t.Errorf("DNS has %s at %v, want %s", name, a, localIP)
	}
}

// TestRoute53DocPolicy checks the documented IAM policy's structure: valid
// JSON, every statement allowing Route 53 actions on the zone or on "*",
// the change scoped by the normalised-names condition to the names and
// their ownership records.
func TestRoute53DocPolicy(t *testing.T) {
	blocks := fenced(route53Section(t), "json")
	if len(blocks) != 1 {
		t.Fatalf("%d json blocks in the Route 53 section, want 1", len(blocks))
	}
	var pol struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Resource  string
			Condition map[string]map[string][]string
		}
	}
	dec := json.NewDecoder(strings.NewReader(blocks[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pol); err != nil {
		t.Fatalf("policy: %v", err)
	}
	if pol.Version != "2012-10-17" {
		t.Errorf("Version %q", pol.Version)
	}
	actions := map[string]string{}
	for _, s := range pol.Statement {
		if s.Effect != "Allow" {
			t.Errorf("%s: effect %q", s.Sid, s.Effect)
		}
		for _, a := range s.Action {
			actions[a] = s.Resource
			if a == "route53:ChangeResourceRecordSets" {
				names := s.Condition["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
				if len(names) == 0 {
					t.Errorf("the change is not scoped to names: %v", s.Condition)
				}
				owner := false
				for _, n := range names {
					owner = owner || strings.HasPrefix(n, "_ec2boot.")
					if strings.HasSuffix(n, ".") || strings.ToLower(n) != n {
						t.Errorf("%q is not a normalised name (lower case, no trailing dot)", n)
					}
				}
				if !owner {
					t.Errorf("the ownership records are not allowed: %v", names)
				}
			}
		}
	}
	zone := "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
	for a, res := range map[string]string{"route53:ListResourceRecordSets": zone, "route53:ChangeResourceRecordSets": zone,
		"route53:GetChange": "*", "route53:ListHostedZonesByName": "*"} {
		if actions[a] != res {
			t.Errorf("%s on %q, want %q", a, actions[a], res)
		}
	}
}
