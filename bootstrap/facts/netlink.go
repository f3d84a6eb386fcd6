package facts

// Reading links, addresses and routes from the kernel over rtnetlink with
// github.com/vishvananda/netlink, which parses the kernel's messages; what
// is decided here is only which routes count as the machine's default
// route, and how the three lists join.

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
)

// nlLink is one link of the link dump.
type nlLink struct {
	Index int
	Name  string
	Flags uint32 // ifi_flags: syscall.IFF_UP, syscall.IFF_LOOPBACK, …
}

// nlAddr is one address of the address dump. Addr is this side's address:
// IFA_LOCAL when the kernel sends it (on an IPv4 point-to-point link
// IFA_ADDRESS is the peer), which is what the library puts in IPNet.
type nlAddr struct {
	Index int
	Addr  netip.Addr
}

// nlRoute is one route, reduced to what deciding "default route, and
// through which links" needs.
type nlRoute struct {
	Family int
	DstLen int
	Table  int
	Type   int // syscall.RTN_UNICAST, RTN_UNREACHABLE, …
	Flags  int // rtm_flags: syscall.RTM_F_CLONED, …
	// Links are the output interfaces: the route's own, and that of every
	// nexthop of a multipath route (ECMP routes, common for IPv6).
	Links []int
}

// isDefault reports whether r is a default route that the machine uses
// to reach the world through its links: a unicast route to 0/0 in the
// main table.
//
// Routes in other tables do not count: the local table (255) only holds
// the machine's own and broadcast addresses, and any other table is
// consulted only when a policy rule (`ip rule`) selects it, for some
// source address, mark or interface, so a default route there is not the
// machine's default route. This is also what the kernel uses for traffic
// that no rule diverts, and what `ip route` shows without `table`.
// Unreachable, blackhole and prohibit "default" routes carry no traffic
// (IPv6 ones name lo as their device); cloned entries are route-cache
// entries, not routes.
func (r nlRoute) isDefault() bool {
	return r.DstLen == 0 && r.Table == syscall.RT_TABLE_MAIN &&
		r.Type == syscall.RTN_UNICAST && r.Flags&syscall.RTM_F_CLONED == 0 &&
		(r.Family == syscall.AF_INET || r.Family == syscall.AF_INET6)
}

// fromRoute reduces a route of the library to an nlRoute. A route without
// a destination is a default route (the library fills in 0/0 itself; nil
// is accepted too).
func fromRoute(r netlink.Route) nlRoute {
	out := nlRoute{Family: r.Family, Table: r.Table, Type: r.Type, Flags: r.Flags}
	if r.Dst != nil {
		out.DstLen, _ = r.Dst.Mask.Size()
	}
	if r.LinkIndex > 0 {
		out.Links = append(out.Links, r.LinkIndex)
	}
	for _, h := range r.MultiPath {
		if h != nil && h.LinkIndex > 0 {
			out.Links = append(out.Links, h.LinkIndex)
		}
	}
	return out
}

// joinInterfaces builds the IfAddr list: every address of every link, in
// the order of the link dump and, within a link, of the address dump (IPv4
// before IPv6, as `ip addr` shows them). An address on a link that the
// link dump did not have (added in between) is left out.
func joinInterfaces(links []nlLink, addrs []nlAddr, routes []nlRoute) []IfAddr {
	type key struct {
		index int
		is4   bool
	}
	defaults := map[key]bool{}
	for _, r := range routes {
		if !r.isDefault() {
			continue
		}
		for _, l := range r.Links {
			defaults[key{l, r.Family == syscall.AF_INET}] = true
		}
	}
	byLink := map[int][]netip.Addr{}
	for _, a := range addrs {
		byLink[a.Index] = append(byLink[a.Index], a.Addr)
	}
	var out []IfAddr
	for _, l := range links {
		for _, a := range byLink[l.Index] {
			out = append(out, IfAddr{
				Link:     l.Name,
				Index:    l.Index,
				Addr:     a,
				Up:       l.Flags&syscall.IFF_UP != 0,
				Loopback: l.Flags&syscall.IFF_LOOPBACK != 0,
				Default:  defaults[key{l.Index, a.Is4()}],
			})
		}
	}
	return out
}

// netlinkInterfaces is NetlinkInterfaces on one netlink handle.
func netlinkInterfaces(h *netlink.Handle) ([]IfAddr, error) {
	var links []nlLink
	ls, err := retryInterrupted(h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	for _, l := range ls {
		a := l.Attrs()
		links = append(links, nlLink{Index: a.Index, Name: a.Name, Flags: a.RawFlags})
	}
	var routes []nlRoute
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		// Without a filter the library lists the main table only; the
		// filter asks for every table, and isDefault picks main, so that
		// the decision stays here.
		rs, err := retryInterrupted(func() ([]netlink.Route, error) {
			return h.RouteListFiltered(fam, &netlink.Route{Table: syscall.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return nil, fmt.Errorf("list routes: %w", err)
		}
		for _, r := range rs {
			routes = append(routes, fromRoute(r))
		}
	}
	// FAMILY_ALL: the kernel dumps the IPv4 addresses, then the IPv6 ones.
	as, err := retryInterrupted(func() ([]netlink.Addr, error) { return h.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var addrs []nlAddr
	for _, a := range as {
		if a.IPNet == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IPNet.IP)
		if !ok {
			continue
		}
		addrs = append(addrs, nlAddr{Index: a.LinkIndex, Addr: ip.Unmap()})
	}
	return joinInterfaces(links, addrs, routes), nil
}

// retryInterrupted runs one dump. A dump the kernel flags as interrupted
// (NLM_F_DUMP_INTR: a link, address or route changed during it, so records
// may be missing or stale) is fetched once more; if the second one is
// interrupted too, it is used as it is, as a busy boot may change
// addresses at any time and a slightly stale list beats none for a
// cross-check and a fallback.
func retryInterrupted[T any](list func() ([]T, error)) ([]T, error) {
	recs, err := list()
	if errors.Is(err, netlink.ErrDumpInterrupted) {
		recs, err = list()
	}
	if errors.Is(err, netlink.ErrDumpInterrupted) {
		err = nil
	}
	return recs, err
}
