package peers

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// tomlBlocks returns the ```toml blocks of a Markdown file, each named by
// the line it starts on.
func tomlBlocks(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var cur *strings.Builder
	var at string
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```toml":
			cur, at = &strings.Builder{}, fmt.Sprintf("docs/peers.md:%d", i+2)
		case cur != nil && strings.TrimSpace(l) == "```":
			out[at], cur = cur.String(), nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	return out
}

// TestDocExamples loads every configuration of docs/peers.md and resolves
// each found role it shows: ec2 roles through the real client against
// the API test peer, with instances that carry the tags the example asks
// for; dns roles through a resolver that knows the record. Every role
// must come out with its members, named as the page says.
func TestDocExamples(t *testing.T) {
	blocks := tomlBlocks(t, filepath.Join("..", "..", "docs", "peers.md"))
	self := inst(1, "Role", "web", "aws:autoscaling:groupName", "web-asg")
	web2 := inst(2, "Role", "web", "Name", "web-b")
	web2.Tags = append(web2.Tags, awsapi.Tag{Key: "aws:autoscaling:groupName", Value: "web-asg"})
	self.Tags = append(self.Tags, awsapi.Tag{Key: "Name", Value: "web-a"})
	db := inst(3, "Role", "db", "Env", "prod")
	f := startFleet(t, []awsapi.Instance{self, web2, db})
	fake := &fakeDNS{addrs: map[string][]string{"queue.roles.internal.example.com": {"10.0.3.1", "10.0.3.2"}}}
	found := 0
	for at, block := range blocks {
		// The peer serves one region; the example's other region must
		// reach it as such (a request signed for eu-west-1 is refused).
		block = strings.ReplaceAll(block, `region = "eu-west-1"`, `region = "us-east-1"`)
		cfg, ps := config.Load(config.Source{Name: at, Data: []byte(block)})
		if cfg == nil {
			t.Errorf("%s: refused: %v", at, ps)
			continue
		}
		if len(cfg.Peers.Discover) == 0 {
			continue
		}
		found += len(cfg.Peers.Discover)
		fa := &facts.Facts{InstanceID: self.ID, Region: "us-east-1", LocalIPv4: self.PrivateIP, MetadataEndpoint: f.imds.URL,
			Tags: map[string]string{"aws:autoscaling:groupName": "web-asg", "Name": "web-a"}, TagsAvailable: true}
		set, err := Resolve(ctxT(t), Input{Config: cfg, Facts: fa, Clock: clock.NewFake(t0), Resolver: fake})
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		if len(set.RoleProblems) > 0 || set.Refused() != nil {
			t.Errorf("%s: %v %v", at, set.RoleProblems, set.Refused())
		}
		for role := range cfg.Peers.Discover {
			if len(set.Roles[role]) == 0 {
				t.Errorf("%s: role %s found no member", at, role)
			}
			for _, h := range set.Roles[role] {
				if !strings.Contains(h.Name, "example.com") && !strings.HasSuffix(h.Name, ".ec2.internal") {
					t.Errorf("%s: role %s: member name %q", at, role, h.Name)
				}
				if !h.Addrs[0].IsValid() || h.Addrs[0] == (netip.Addr{}) {
					t.Errorf("%s: role %s: member %s without address", at, role, h.Name)
				}
			}
		}
	}
	if found < 3 {
		t.Errorf("docs/peers.md shows %d found roles; the page shows web, db and queue", found)
	}
}
