package config

import (
	"slices"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// Discover is a role whose members are found, not listed: by EC2 tags
// (DescribeInstances) or by a DNS role record every member publishes its
// address under. docs/peers.md documents each key.
//
// It is a table of its own (peers.discover.<role>) rather than a second
// form of peers.roles: a list there is always names, and a misspelt key
// here is an unknown key like anywhere else.
type Discover struct {
	// Source is "ec2" or "dns".
	Source string `toml:"source"`
	// Tag (ec2): every key must carry its value on a member.
	Tag map[string]string `toml:"tag"`
	// SameASG (ec2): only instances of this instance's own Auto Scaling
	// group (its aws:autoscaling:groupName tag, read from the metadata
	// service's instance tags).
	SameASG bool `toml:"same_asg"`
	// Region (ec2) asks another region's endpoint; default the instance's.
	Region string `toml:"region"`
	// Address (ec2) is which of a member's addresses it gets, joined with
	// "+": private-ipv4 (default), public-ipv4, ipv6.
	Address string `toml:"address"`
	// Record (dns) is the role name every member publishes its address
	// under; its A and AAAA answers are the members.
	Record string `toml:"record"`
	// Publish (dns) makes this instance a member: it publishes its own
	// address under Record through a DNS account (docs/peers.md,
	// "Publishing").
	Publish *Publish `toml:"publish"`
	// Name is a name template for each member (names.Data of the member):
	// default its private DNS name (ec2) or ip-<address, dashed>.<record>
	// (dns).
	Name string `toml:"name"`
}

// Publish is how an instance publishes itself under a DNS role record.
type Publish struct {
	// Account is the dns.accounts entry written through: an rfc2136 or
	// route53 account.
	Account string `toml:"account"`
	// Address is the instance's address published: "local-ipv4"
	// (default), "public-ipv4" or "ipv6".
	Address string `toml:"address"`
}

// PublishAddress returns the address kind published.
func (p Publish) PublishAddress() string {
	if p.Address == "" {
		return "local-ipv4"
	}
	return p.Address
}

// The discovery sources.
const (
	DiscoverEC2 = "ec2"
	DiscoverDNS = "dns"
)

// The address kinds of peers.discover.<role>.address.
var discoverAddresses = []string{"private-ipv4", "public-ipv4", "ipv6"}

// AddressKinds returns the address kinds an ec2 role's members get.
func (d Discover) AddressKinds() []string {
	if d.Address == "" {
		return []string{"private-ipv4"}
	}
	return strings.Split(d.Address, "+")
}

// DiscoverNames returns the discovered roles in a stable order.
func (s *Peers) DiscoverNames() []string {
	out := make([]string, 0, len(s.Discover))
	for r := range s.Discover {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// AllRoleNames returns every role, listed or discovered, in a stable order.
func (s *Peers) AllRoleNames() []string {
	out := append(s.RoleNames(), s.DiscoverNames()...)
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Peers) validateDiscover(v *validator) {
	for _, role := range s.DiscoverNames() {
		d := s.Discover[role]
		p := "peers.discover." + role
		if !IsHostname(role) || strings.Contains(role, ".") {
			v.errorf(p, "role name %q: use letters, digits and hyphens", role)
		}
		if _, dup := s.Roles[role]; dup {
			v.errorf(p, "role %s is also listed in peers.roles: a role is either listed or discovered", role)
		}
		if d.Name != "" {
			if _, err := names.Parse(d.Name); err != nil {
				v.errorf(p+".name", "%v", err)
			}
		}
		switch d.Source {
		case DiscoverEC2:
			if len(d.Tag) == 0 && !d.SameASG {
				v.errorf(p, "an ec2 role needs tag = { Key = \"value\" } or same_asg = true: without either it would be every running instance of the account")
			}
			for k := range d.Tag {
				if k == "" || len(k) > 128 {
					v.errorf(p+".tag", "tag key %q: 1 to 128 characters", k)
				}
			}
			for _, k := range d.AddressKinds() {
				if !slices.Contains(discoverAddresses, k) {
					v.errorf(p+".address", "%q: use private-ipv4, public-ipv4 or ipv6, joined with +", d.Address)
					break
				}
			}
			if d.Record != "" {
				v.errorf(p+".record", "only for source = \"dns\"")
			}
			if d.Publish != nil {
				v.errorf(p+".publish", "only for source = \"dns\": an ec2 role's members are found by their tags and publish nothing")
			}
		case DiscoverDNS:
			switch {
			case d.Record == "":
				v.errorf(p+".record", "a dns role needs the role record's name, e.g. record = \"web.roles.example.com\"")
			case !IsHostname(d.Record) || !strings.Contains(strings.TrimSuffix(d.Record, "."), "."):
				v.errorf(p+".record", "%q is not a fully qualified DNS name", d.Record)
			case ReservedHostname(d.Record):
				v.errorf(p+".record", "%q would shadow the instance metadata service or localhost", d.Record)
			}
			if d.Publish != nil && !slices.Contains([]string{"local-ipv4", "public-ipv4", "ipv6"}, d.Publish.PublishAddress()) {
				v.errorf(p+".publish.address", "%q: use local-ipv4, public-ipv4 or ipv6", d.Publish.Address)
			}
			if len(d.Tag) > 0 || d.SameASG || d.Region != "" || d.Address != "" {
				v.errorf(p, "tag, same_asg, region and address are only for source = \"ec2\"")
			}
		default:
			v.errorf(p+".source", "%q: use \"ec2\" (EC2 tags) or \"dns\" (a DNS role record)", d.Source)
		}
	}
}

// validatePublish checks that each role published through an account
// names an account that can write a role record.
func (c *Config) validatePublish(v *validator) {
	for _, role := range c.Peers.DiscoverNames() {
		d := c.Peers.Discover[role]
		if d.Publish == nil || d.Source != DiscoverDNS {
			continue
		}
		p := "peers.discover." + role + ".publish.account"
		a, ok := c.DNS.Accounts[d.Publish.Account]
		switch {
		case d.Publish.Account == "":
			v.errorf(p, "publish needs the dns.accounts entry it writes through, e.g. account = \"corp\"")
		case !ok:
			v.errorf(p, "no account %q in dns.accounts", d.Publish.Account)
		case a.Provider != "rfc2136" && a.Provider != "route53":
			v.errorf(p, "account %s is a %s account: a role record is written through an rfc2136 or route53 account", d.Publish.Account, a.Provider)
		}
	}
}
