package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// HasNameTemplates reports whether any record or peer name is a template,
// that is, whether the configuration means something only with facts.
func (c *Config) HasNameTemplates() bool {
	for _, r := range c.DNS.Records {
		if names.IsTemplate(r.Name) {
			return true
		}
	}
	for _, members := range c.Peers.Roles {
		for _, n := range members {
			if names.IsTemplate(n) {
				return true
			}
		}
	}
	return false
}

// ExpandNames returns a copy of c in which every record name (and with it
// the instance's own /etc/hosts names) and every peer name written as a
// template is made from d; literal names stay as they are. Each name that
// cannot be made is one error naming its key, the template and the missing
// fact; the copy is nil when there is any. Load has checked the templates'
// syntax, so only facts can fail here.
func (c *Config) ExpandNames(d names.Data) (*Config, Problems) {
	out := *c
	out.DNS.Records = slices.Clone(c.DNS.Records)
	out.Peers.Roles = make(map[string][]string, len(c.Peers.Roles))
	var problems Problems
	fail := func(key string, err error) {
		problems = append(problems, Problem{Key: key, Message: err.Error()})
	}
	seen := map[string]int{}
	for i := range out.DNS.Records {
		r := &out.DNS.Records[i]
		key := fmt.Sprintf("dns.records[%d].name", i)
		if names.IsTemplate(r.Name) {
			name, err := expand(r.Name, d)
			if err != nil {
				fail(key, err)
				continue
			}
			if !strings.Contains(strings.TrimSuffix(name, "."), ".") {
				fail(key, fmt.Errorf("template %q: expands to %q, which is not fully qualified (providers answer notfqdn)", r.Name, name))
				continue
			}
			r.Name = name
		}
		norm := r.Account + "/" + strings.ToLower(strings.TrimSuffix(r.Name, "."))
		if j, dup := seen[norm]; dup {
			fail(key, fmt.Errorf("%q with account %q is also dns.records[%d]", r.Name, r.Account, j))
		}
		seen[norm] = i
	}
	for _, role := range c.Peers.RoleNames() {
		members := slices.Clone(c.Peers.Roles[role])
		for i, n := range members {
			if !names.IsTemplate(n) {
				continue
			}
			key := fmt.Sprintf("peers.roles.%s[%d]", role, i)
			name, err := expand(n, d)
			switch {
			case err != nil:
				fail(key, err)
			case ReservedHostname(name):
				fail(key, fmt.Errorf("template %q: expands to %q, which would shadow the instance metadata service or localhost", n, name))
			default:
				members[i] = name
			}
		}
		out.Peers.Roles[role] = members
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &out, nil
}

func expand(text string, d names.Data) (string, error) {
	t, err := names.Parse(text)
	if err != nil {
		return "", err
	}
	return t.Expand(d)
}
