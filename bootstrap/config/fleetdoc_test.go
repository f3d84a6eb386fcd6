package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// docBlocks returns the ```toml blocks of a Markdown file, with the line
// each starts on.
func docBlocks(t *testing.T, path string) (blocks []string, lines []int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cur *strings.Builder
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```toml":
			cur = &strings.Builder{}
			lines = append(lines, i+2)
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: an unclosed toml block", path)
	}
	return blocks, lines
}

// Every configuration in docs/fleet.md loads without an error and makes
// its names from an instance of a group; two instances of the group get
// different names wherever a name uses the instance-id.
func TestFleetDocConfigs(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "fleet.md")
	blocks, lines := docBlocks(t, path)
	if len(blocks) < 5 {
		t.Fatalf("%s has %d toml blocks; the page shows more", path, len(blocks))
	}
	instance := func(id, ip string) names.Data {
		return names.Data{InstanceID: id, ShortID: names.ShortID(id), LaunchIndex: "0", InstanceType: "m5d.large",
			LifeCycle: "on-demand", AvailabilityZone: "eu-west-1b", Region: "eu-west-1", LocalIPv4: ip, LocalIPv4Dashed: names.Dashed(ip),
			Tags: map[string]string{"Name": "web", "aws:autoscaling:groupName": "web-asg"}, TagsAvailable: true}
	}
	a, b := instance("i-0123456789abcdef0", "10.0.1.23"), instance("i-0fedcba9876543210", "10.0.2.7")
	for i, block := range blocks {
		name := fmt.Sprintf("docs/fleet.md:%d", lines[i])
		cfg, ps := Load(Source{Name: name, Data: []byte(block)})
		if cfg == nil {
			t.Errorf("%s: refused:\n%s", name, renderProblems(name, ps))
			continue
		}
		ea, pa := cfg.ExpandNames(a)
		eb, pb := cfg.ExpandNames(b)
		if ea == nil || eb == nil {
			t.Errorf("%s: names not made: %v %v", name, problemStrings(pa), problemStrings(pb))
			continue
		}
		for j, r := range cfg.DNS.Records {
			if strings.Contains(r.Name, "ShortID") && ea.DNS.Records[j].Name == eb.DNS.Records[j].Name {
				t.Errorf("%s: %q gives two instances the same name %q", name, r.Name, ea.DNS.Records[j].Name)
			}
		}
	}
}
