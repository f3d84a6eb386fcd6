package hosts

import (
	"fmt"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"net/netip"
	"slices"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/peers"
)

// mapping is one address with the names the block gives it.
type mapping struct {
	addr  netip.Addr
	names []string
}

// BuildBody turns a resolved set into the block's body lines: one line per
// address, names in order of first appearance (own names first, then roles
// alphabetically, peers in configured order). Entries that would shadow the
// metadata service, localhost, or are not valid host names are left out and
// reported.
func BuildBody(set *peers.Set, includeSelf bool) (body []string, rejected []string) {
	var maps []*mapping
	add := func(h peers.Host) {
		if !validName(h.Name) {
			rejected = append(rejected, fmt.Sprintf("%q is not a valid host name; left out", h.Name))
			return
		}
		if peers.ReservedName(h.Name) {
			rejected = append(rejected, fmt.Sprintf("%s would shadow the instance metadata service or localhost; left out", h.Name))
			return
		}
		for _, a := range h.Addrs {
			if why := peers.ReservedAddr(a); why != "" {
				rejected = append(rejected, fmt.Sprintf("%s -> %s: %s; left out", h.Name, a, why))
				continue
			}
			i := slices.IndexFunc(maps, func(m *mapping) bool { return m.addr == a })
			if i < 0 {
				maps = append(maps, &mapping{addr: a})
				i = len(maps) - 1
			}
			if !slices.Contains(maps[i].names, h.Name) {
				maps[i].names = append(maps[i].names, h.Name)
			}
		}
	}
	if includeSelf {
		for _, h := range set.Self {
			add(h)
		}
	}
	roles := make([]string, 0, len(set.Roles))
	for r := range set.Roles {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	for _, r := range roles {
		for _, h := range set.Roles[r] {
			add(h)
		}
	}
	if len(maps) == 0 {
		return nil, rejected
	}
	body = []string{bodyNotice}
	for _, m := range maps {
		body = append(body, m.addr.String()+"\t"+strings.Join(m.names, " "))
	}
	return body, rejected
}

// validName accepts what config accepts for DNS names, without the
// trailing dot: nothing that could break the file's syntax.
func validName(s string) bool {
	return !strings.HasSuffix(s, ".") && config.IsHostname(s)
}

// Conflicts reports managed names that the file also defines outside the
// block with an address the block does not give them: lookups take the
// first match, so the line above the block would hide the managed entry.
func Conflicts(f *File) []string {
	if !f.HasBlock() {
		return nil
	}
	managed := map[string][]netip.Addr{}
	line := map[string]int{}
	for _, l := range f.Lines[f.Begin+1 : f.End] {
		t := l.text()
		if strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.Fields(t)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		for _, n := range fields[1:] {
			n = strings.ToLower(n)
			managed[n] = append(managed[n], a)
			if _, ok := line[n]; !ok {
				line[n] = l.Num
			}
		}
	}
	var out []string
	for _, e := range f.Entries() {
		a, err := netip.ParseAddr(e.Addr)
		for _, n := range e.Names {
			addrs, ok := managed[n]
			if !ok || err == nil && slices.Contains(addrs, a.WithZone("").Unmap()) {
				continue
			}
			out = append(out, fmt.Sprintf("%s is %s in the managed block (line %d) but %s on line %d; lookups take the first match", n, joinAddrs(addrs), line[n], e.Addr, e.Line))
		}
	}
	return out
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// Known returns the addresses the block gives each name, for the peers
// fallback when the state directory is lost.
func Known(f *File) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	if !f.HasBlock() {
		return out
	}
	for _, l := range f.Lines[f.Begin+1 : f.End] {
		fields := strings.Fields(l.text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil || peers.ReservedAddr(a) != "" {
			continue
		}
		for _, n := range fields[1:] {
			n = strings.ToLower(n)
			if !slices.Contains(out[n], a) {
				out[n] = append(out[n], a)
			}
		}
	}
	return out
}
