// Package render writes application config files from Go text/template
// files, with the instance facts, the resolved peers and the user's vars as
// data; it runs each file's check on the staged file before replacing the
// real one, and after all files are written runs the actions of the changed
// ones (systemd reload/restart, commands) once each. An action that fails is
// remembered and retried on the next run even when no file changes.
package render

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"text/template"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
)

// Data is what a template sees as ".".
type Data struct {
	// Facts are the instance facts; addresses are strings ("" when absent).
	Facts FactsView
	// Peers maps each configured role to its peers, in configured order.
	Peers map[string][]Peer
	// Self lists this instance's own names and addresses.
	Self []Peer
	// Vars are the user's variables from the config's [vars] table.
	Vars map[string]any
}

// FactsView is the instance facts as templates see them.
type FactsView struct {
	InstanceID       string
	ImageID          string
	InstanceType     string
	Region           string
	AvailabilityZone string
	LocalIPv4        string
	PublicIPv4       string
	IPv6             string
	LocalHostname    string
	PublicHostname   string
	MAC              string
	// The fleet facts, named and written as in name templates (package
	// names): ShortID is the last 8 hex digits of the instance-id,
	// LaunchIndex ami-launch-index, LifeCycle spot or on-demand,
	// LocalIPv4Dashed the private address as one label, Tags the
	// instance's tags (empty unless the launch template puts them in the
	// metadata), TargetLifecycleState the Auto Scaling state.
	ShortID              string
	LaunchIndex          string
	LifeCycle            string
	LocalIPv4Dashed      string
	Tags                 map[string]string
	TargetLifecycleState string
}

// Peer is one host as templates see it.
type Peer struct {
	Name  string   `json:"name"`
	Role  string   `json:"role,omitempty"`
	Addr  string   `json:"addr"`           // the first address, IPv4 preferred
	IPv4  string   `json:"ipv4,omitempty"` // "" when it has none
	IPv6  string   `json:"ipv6,omitempty"` // "" when it has none
	Addrs []string `json:"addrs"`          // all, IPv4 first
	Stale bool     `json:"stale"`          // kept at its last known address
	// InstanceID and Tags are set for members of roles found by EC2 tags.
	InstanceID string            `json:"instance_id,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// NewData assembles the template data.
func NewData(f *facts.Facts, set *peers.Set, vars map[string]any) Data {
	d := Data{Peers: map[string][]Peer{}, Vars: vars}
	if d.Vars == nil {
		d.Vars = map[string]any{}
	}
	if f != nil {
		d.Facts = FactsView{
			InstanceID: f.InstanceID, ImageID: f.ImageID, InstanceType: f.InstanceType,
			Region: f.Region, AvailabilityZone: f.AvailabilityZone,
			LocalIPv4: addr(f.LocalIPv4), PublicIPv4: addr(f.PublicIPv4), IPv6: addr(f.IPv6),
			LocalHostname: f.LocalHostname, PublicHostname: f.PublicHostname, MAC: f.MAC,
		}
		nd := f.NameData()
		d.Facts.ShortID, d.Facts.LaunchIndex, d.Facts.LifeCycle = nd.ShortID, nd.LaunchIndex, nd.LifeCycle
		d.Facts.LocalIPv4Dashed, d.Facts.TargetLifecycleState = nd.LocalIPv4Dashed, f.TargetLifecycleState
		d.Facts.Tags = map[string]string{}
		for k, v := range f.Tags {
			d.Facts.Tags[k] = v
		}
	}
	if set != nil {
		for role, hosts := range set.Roles {
			list := make([]Peer, 0, len(hosts))
			for _, h := range hosts {
				list = append(list, peerOf(h))
			}
			d.Peers[role] = list
		}
		for _, h := range set.Self {
			d.Self = append(d.Self, peerOf(h))
		}
	}
	return d
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func peerOf(h peers.Host) Peer {
	p := Peer{Name: h.Name, Role: h.Role, Stale: h.Source == peers.FromStale, InstanceID: h.InstanceID, Tags: h.Tags}
	for _, a := range h.Addrs {
		s := a.String()
		p.Addrs = append(p.Addrs, s)
		if a.Is4() && p.IPv4 == "" {
			p.IPv4 = s
		}
		if a.Is6() && p.IPv6 == "" {
			p.IPv6 = s
		}
	}
	if len(p.Addrs) > 0 {
		p.Addr = p.Addrs[0]
	}
	return p
}

// funcs is the documented helper set (docs/peers.md). It is hermetic on
// purpose: no environment, no files, no network, so a re-run with the same
// inputs renders the same bytes.
func funcs(d Data) template.FuncMap {
	return template.FuncMap{
		"role": func(name string) ([]Peer, error) {
			p, ok := d.Peers[name]
			if !ok {
				return nil, fmt.Errorf("no peer role %q in the configuration", name)
			}
			return p, nil
		},
		"addrs": func(ps []Peer) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.Addrs...)
			}
			return out
		},
		"names": func(ps []Peer) []string {
			out := make([]string, len(ps))
			for i, p := range ps {
				out[i] = p.Name
			}
			return out
		},
		"hostPort": func(host string, port any) (string, error) {
			ps := fmt.Sprint(port)
			if _, err := strconv.ParseUint(ps, 10, 16); err != nil {
				return "", fmt.Errorf("hostPort: bad port %q", ps)
			}
			return net.JoinHostPort(host, ps), nil
		},
		"join": func(sep string, list any) (string, error) {
			items, err := toStrings(list)
			return strings.Join(items, sep), err
		},
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"toPrettyJSON": func(v any) (string, error) {
			b, err := json.MarshalIndent(v, "", "  ")
			return string(b), err
		},
		"quote":      strconv.Quote,
		"shellQuote": shellQuote,
		"default": func(def, v any) any {
			if v == nil || v == "" {
				return def
			}
			return v
		},
		"required": func(msg string, v any) (any, error) {
			if v == nil || v == "" {
				return nil, fmt.Errorf("required: %s", msg)
			}
			return v, nil
		},
		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"split":      func(sep, s string) []string { return strings.Split(s, sep) },
		"add":        func(a, b int) int { return a + b },
		"sub":        func(a, b int) int { return a - b },
	}
}

func toStrings(list any) ([]string, error) {
	switch v := list.(type) {
	case []string:
		return v, nil
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = fmt.Sprint(x)
		}
		return out, nil
	case []Peer:
		out := make([]string, len(v))
		for i, p := range v {
			out[i] = p.Name
		}
		return out, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("join: cannot join a %T", list)
}

// shellQuote quotes s for POSIX shells and systemd EnvironmentFile= lines.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
