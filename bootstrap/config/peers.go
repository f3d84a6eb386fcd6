package config

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// Peers names the other servers this instance talks to, by role.
type Peers struct {
	// Nameserver ("host:port", or an address alone for port 53) is asked
	// directly, so a just-updated record is seen at once; empty means the
	// system resolver. It must be an IP address: finding the DNS server
	// through DNS would defeat the point.
	Nameserver string `toml:"nameserver"`
	// Timeout bounds each lookup.
	Timeout Duration `toml:"timeout"`
	// StaleAfter is how long a peer that no longer resolves keeps its last
	// known address before it is dropped.
	StaleAfter Duration `toml:"stale_after"`
	// MinKeep refuses a write that would shrink a role below this fraction
	// of its previous size (0 disables the check; an empty role is always
	// refused unless AllowEmpty).
	MinKeep float64 `toml:"min_keep"`
	// MaxAddresses bounds the addresses one peer name contributes to the
	// hosts block and the template data: a DNS answer with thousands of
	// records must not become thousands of lines.
	MaxAddresses int                 `toml:"max_addresses"`
	AllowEmpty   bool                `toml:"allow_empty"`
	Roles        map[string][]string `toml:"roles"`
	// Discover holds the roles whose members are found by EC2 tags or a
	// DNS role record (discover.go).
	Discover map[string]Discover `toml:"discover"`
}

// NameserverAddr returns Nameserver with the default port added.
func (s *Peers) NameserverAddr() string {
	if s.Nameserver == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(s.Nameserver); err == nil {
		return s.Nameserver
	}
	return net.JoinHostPort(strings.Trim(s.Nameserver, "[]"), "53")
}

// RoleNames returns the roles in a stable order.
func (s *Peers) RoleNames() []string {
	roles := make([]string, 0, len(s.Roles))
	for r := range s.Roles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

func (s *Peers) setDefaults() {
	if s.Timeout.Duration == 0 {
		s.Timeout.Duration = 2 * time.Second
	}
	if s.StaleAfter.Duration == 0 {
		s.StaleAfter.Duration = 24 * time.Hour
	}
	if s.MinKeep == 0 {
		s.MinKeep = 0.5
	}
	if s.MaxAddresses == 0 {
		s.MaxAddresses = DefaultMaxPeerAddresses
	}
}

// DefaultMaxPeerAddresses is peers.max_addresses when not set.
const DefaultMaxPeerAddresses = 32

// maxPeerAddresses is the highest peers.max_addresses accepted.
const maxPeerAddresses = 1024

func (s *Peers) validate(v *validator) {
	if s.MinKeep < 0 || s.MinKeep > 1 {
		v.errorf("peers.min_keep", "must be between 0 and 1, got %g", s.MinKeep)
	}
	if s.MaxAddresses < 1 || s.MaxAddresses > maxPeerAddresses {
		v.errorf("peers.max_addresses", "must be between 1 and %d, got %d", maxPeerAddresses, s.MaxAddresses)
	}
	if s.Nameserver != "" {
		host, port, err := net.SplitHostPort(s.NameserverAddr())
		if _, perr := netip.ParseAddr(host); err != nil || perr != nil || port == "" {
			v.errorf("peers.nameserver", "%q is not an address such as \"10.0.0.2\" or \"10.0.0.2:53\"", s.Nameserver)
		}
	}
	s.validateDiscover(v)
	for _, role := range s.RoleNames() {
		members := s.Roles[role]
		p := fmt.Sprintf("peers.roles.%s", role)
		if !IsHostname(role) || strings.Contains(role, ".") {
			v.errorf(p, "role name %q: use letters, digits and hyphens", role)
		}
		seen := map[string]int{}
		for i, n := range members {
			key := fmt.Sprintf("%s[%d]", p, i)
			switch {
			case names.IsTemplate(n):
				if _, err := names.Parse(n); err != nil {
					v.errorf(key, "%v", err)
				}
			case !IsHostname(n):
				v.errorf(key, "%q is not a valid DNS name", n)
			case ReservedHostname(n):
				v.errorf(key, "%q would shadow the instance metadata service or localhost", n)
			}
			norm := strings.ToLower(strings.TrimSuffix(n, "."))
			if j, dup := seen[norm]; dup {
				v.errorf(key, "%q is already %s[%d]", n, p, j)
			}
			seen[norm] = i
		}
	}
}

// ReservedHostname reports names ec2boot must never map to an address: the
// metadata service's (instance-data, instance-data.ec2.internal, and the
// regional instance-data.* forms) and localhost's.
func ReservedHostname(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	first, _, _ := strings.Cut(n, ".")
	switch {
	case first == "instance-data", first == "localhost",
		n == "ip6-localhost", n == "ip6-loopback", n == "localhost.localdomain", n == "broadcasthost":
		return true
	}
	return false
}
