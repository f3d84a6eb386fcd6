package facts

// Reading links, addresses and routes from the kernel over rtnetlink with
// the standard library's dump helper (syscall.NetlinkRIB), which the binary
// links anyway for the net package, instead of a netlink library.
//
// The dump is fetched by syscall.NetlinkRIB; everything after that is pure
// parsing (bytes in, records out), so that it can be tested on fixed bytes
// and fuzzed. The parsers check every length themselves and never panic:
// syscall.ParseNetlinkMessage is safe on any input and is used, but
// syscall.ParseNetlinkRouteAttr is not (it slices past the end on a short
// header or a last attribute whose length is not a multiple of four), so
// attributes are walked here instead.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// nlLink is one RTM_NEWLINK record of a link dump.
type nlLink struct {
	Index int
	Name  string
	Flags uint32 // ifi_flags: syscall.IFF_UP, syscall.IFF_LOOPBACK, …
}

// nlAddr is one RTM_NEWADDR record of an address dump.
type nlAddr struct {
	Index int
	// Addr is IFA_LOCAL when present, else IFA_ADDRESS: on an IPv4
	// point-to-point link IFA_ADDRESS is the peer, and IFA_LOCAL is the
	// address that `ip addr` shows as this side's. IPv6 sends IFA_ADDRESS
	// alone (and IFA_LOCAL too for a point-to-point address).
	Addr netip.Addr
}

// nlRoute is one RTM_NEWROUTE record of a route dump, reduced to what
// deciding "default route, and through which links" needs.
type nlRoute struct {
	Family uint8  // rtm_family
	DstLen uint8  // rtm_dst_len
	Table  uint32 // RTA_TABLE when present, else rtm_table
	Type   uint8  // rtm_type: syscall.RTN_UNICAST, RTN_UNREACHABLE, …
	Flags  uint32 // rtm_flags: syscall.RTM_F_CLONED, …
	// Links are the output interfaces: RTA_OIF, and the ifindex of every
	// nexthop of RTA_MULTIPATH (ECMP routes, common for IPv6).
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

// errMalformed is wrapped by every parse error of a dump.
var errMalformed = errors.New("malformed netlink message")

const (
	sizeofIfInfomsg = syscall.SizeofIfInfomsg // family, pad, type, index, flags, change
	sizeofIfAddrmsg = syscall.SizeofIfAddrmsg // family, prefixlen, flags, scope, index
	sizeofRtMsg     = syscall.SizeofRtMsg     // family, dst_len, src_len, tos, table, protocol, scope, type, flags
	sizeofRtNexthop = syscall.SizeofRtNexthop // len, flags, hops, ifindex
	sizeofRtAttr    = syscall.SizeofRtAttr    // len, type
)

// Netlink is in the host's byte order.
var ne = binary.NativeEndian

// dumpMessages splits a dump as syscall.NetlinkRIB returns it into the
// payloads of the messages of type want, up to NLMSG_DONE. It reports
// whether the kernel flagged the dump NLM_F_DUMP_INTR (the table changed
// while it was being dumped, so records may be missing or stale), and
// turns NLMSG_ERROR, or an NLMSG_DONE that carries an error, into that
// error.
func dumpMessages(b []byte, want uint16) (payloads [][]byte, interrupted bool, err error) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errMalformed, err)
	}
	for _, m := range msgs {
		if m.Header.Flags&unix.NLM_F_DUMP_INTR != 0 {
			interrupted = true
		}
		switch m.Header.Type {
		case syscall.NLMSG_DONE:
			// NLMSG_DONE of a dump carries an int: the dump's error
			// code, 0 when it succeeded.
			if len(m.Data) >= 4 {
				if e := int32(ne.Uint32(m.Data)); e < 0 {
					return nil, interrupted, syscall.Errno(-e)
				}
			}
			return payloads, interrupted, nil
		case syscall.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return nil, interrupted, fmt.Errorf("%w: short NLMSG_ERROR", errMalformed)
			}
			if e := int32(ne.Uint32(m.Data)); e < 0 {
				return nil, interrupted, syscall.Errno(-e)
			}
			// An acknowledgement: nothing to read.
		case want:
			payloads = append(payloads, m.Data)
		}
	}
	// A dump ends with NLMSG_DONE; syscall.NetlinkRIB reads until it.
	return payloads, interrupted, fmt.Errorf("%w: dump without NLMSG_DONE", errMalformed)
}

// rtAttr is one route attribute: its type and value.
type rtAttr struct {
	Type  uint16
	Value []byte
}

// parseAttrs walks a run of route attributes (struct rtattr, each padded
// to four bytes; the padding of the last one may be cut off).
func parseAttrs(b []byte) ([]rtAttr, error) {
	var attrs []rtAttr
	for len(b) >= sizeofRtAttr {
		l := int(ne.Uint16(b[0:2]))
		if l < sizeofRtAttr || l > len(b) {
			return nil, fmt.Errorf("%w: attribute length %d of %d bytes left", errMalformed, l, len(b))
		}
		// The type's top bits are flags: NLA_F_NESTED, NLA_F_NET_BYTEORDER.
		attrs = append(attrs, rtAttr{Type: ne.Uint16(b[2:4]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER), Value: b[sizeofRtAttr:l]})
		b = b[min(rtaAlign(l), len(b)):]
	}
	return attrs, nil
}

func rtaAlign(l int) int { return (l + syscall.RTA_ALIGNTO - 1) &^ (syscall.RTA_ALIGNTO - 1) }

// parseLinks parses an RTM_GETLINK dump.
func parseLinks(b []byte) ([]nlLink, bool, error) {
	msgs, intr, err := dumpMessages(b, syscall.RTM_NEWLINK)
	if err != nil {
		return nil, intr, err
	}
	var links []nlLink
	for _, m := range msgs {
		if len(m) < sizeofIfInfomsg {
			return nil, intr, fmt.Errorf("%w: ifinfomsg of %d bytes", errMalformed, len(m))
		}
		l := nlLink{
			Index: int(int32(ne.Uint32(m[4:8]))),
			Flags: ne.Uint32(m[8:12]),
		}
		attrs, err := parseAttrs(m[sizeofIfInfomsg:])
		if err != nil {
			return nil, intr, fmt.Errorf("link %d: %w", l.Index, err)
		}
		for _, a := range attrs {
			if a.Type == syscall.IFLA_IFNAME {
				l.Name = cString(a.Value)
			}
		}
		links = append(links, l)
	}
	return links, intr, nil
}

// cString is the NUL-terminated string at the start of b.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// parseAddrs parses an RTM_GETADDR dump. It keeps the IPv4 and IPv6
// addresses, in the kernel's order.
func parseAddrs(b []byte) ([]nlAddr, bool, error) {
	msgs, intr, err := dumpMessages(b, syscall.RTM_NEWADDR)
	if err != nil {
		return nil, intr, err
	}
	var addrs []nlAddr
	for _, m := range msgs {
		if len(m) < sizeofIfAddrmsg {
			return nil, intr, fmt.Errorf("%w: ifaddrmsg of %d bytes", errMalformed, len(m))
		}
		family := m[0]
		index := int(int32(ne.Uint32(m[4:8])))
		attrs, err := parseAttrs(m[sizeofIfAddrmsg:])
		if err != nil {
			return nil, intr, fmt.Errorf("address on link %d: %w", index, err)
		}
		var local, address []byte
		for _, a := range attrs {
			switch a.Type {
			case syscall.IFA_LOCAL:
				local = a.Value
			case syscall.IFA_ADDRESS:
				address = a.Value
			}
		}
		raw := address
		if local != nil {
			raw = local
		}
		if !(family == syscall.AF_INET && len(raw) == 4 || family == syscall.AF_INET6 && len(raw) == 16) {
			continue // another family, or no address
		}
		ip, _ := netip.AddrFromSlice(raw)
		addrs = append(addrs, nlAddr{Index: index, Addr: ip.Unmap()})
	}
	return addrs, intr, nil
}

// parseRoutes parses an RTM_GETROUTE dump. A dump of one family without
// a filter lists the routes of every table (local, main, policy tables).
//
// A route that uses a nexthop object (`ip route add … nhid N`) is dumped
// with RTA_NH_ID and, while net.ipv4.nexthop_compat_mode is 1 (the
// default), with RTA_OIF or RTA_MULTIPATH as well; with compat mode off it
// has no links here (resolving them would need an RTM_GETNEXTHOP dump).
func parseRoutes(b []byte) ([]nlRoute, bool, error) {
	msgs, intr, err := dumpMessages(b, syscall.RTM_NEWROUTE)
	if err != nil {
		return nil, intr, err
	}
	var routes []nlRoute
	for _, m := range msgs {
		if len(m) < sizeofRtMsg {
			return nil, intr, fmt.Errorf("%w: rtmsg of %d bytes", errMalformed, len(m))
		}
		r := nlRoute{
			Family: m[0],
			DstLen: m[1],
			Table:  uint32(m[4]),
			Type:   m[7],
			Flags:  ne.Uint32(m[8:12]),
		}
		attrs, err := parseAttrs(m[sizeofRtMsg:])
		if err != nil {
			return nil, intr, fmt.Errorf("route: %w", err)
		}
		for _, a := range attrs {
			switch a.Type {
			case syscall.RTA_TABLE:
				// rtm_table is only 8 bits: tables from 256 up are
				// RT_TABLE_COMPAT there and whole here. The kernel
				// always sends it; when it does, it wins.
				if len(a.Value) >= 4 {
					r.Table = ne.Uint32(a.Value)
				}
			case syscall.RTA_OIF:
				if len(a.Value) >= 4 {
					r.Links = append(r.Links, int(int32(ne.Uint32(a.Value))))
				}
			case syscall.RTA_MULTIPATH:
				hops, err := parseMultipath(a.Value)
				if err != nil {
					return nil, intr, fmt.Errorf("route: %w", err)
				}
				r.Links = append(r.Links, hops...)
			}
		}
		routes = append(routes, r)
	}
	return routes, intr, nil
}

// parseMultipath returns the ifindex of every nexthop of an RTA_MULTIPATH
// value: a run of struct rtnexthop, each followed by its own attributes
// (gateway, …) up to rtnh_len, padded to four bytes.
func parseMultipath(b []byte) ([]int, error) {
	var links []int
	for len(b) >= sizeofRtNexthop {
		l := int(ne.Uint16(b[0:2]))
		if l < sizeofRtNexthop || l > len(b) {
			return nil, fmt.Errorf("%w: nexthop length %d of %d bytes left", errMalformed, l, len(b))
		}
		links = append(links, int(int32(ne.Uint32(b[4:8]))))
		b = b[min(rtaAlign(l), len(b)):] // RTNH_ALIGN is RTA_ALIGN
	}
	return links, nil
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

// ribFunc fetches one rtnetlink dump: syscall.NetlinkRIB, or a fake.
type ribFunc func(proto, family int) ([]byte, error)

// netlinkInterfaces is NetlinkInterfaces reading its dumps with rib.
func netlinkInterfaces(rib ribFunc) ([]IfAddr, error) {
	links, err := dump(rib, syscall.RTM_GETLINK, syscall.AF_UNSPEC, parseLinks)
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var routes []nlRoute
	for _, fam := range []int{syscall.AF_INET, syscall.AF_INET6} {
		r, err := dump(rib, syscall.RTM_GETROUTE, fam, parseRoutes)
		if err != nil {
			return nil, fmt.Errorf("list routes: %w", err)
		}
		routes = append(routes, r...)
	}
	// AF_UNSPEC: the kernel dumps the IPv4 addresses, then the IPv6 ones.
	addrs, err := dump(rib, syscall.RTM_GETADDR, syscall.AF_UNSPEC, parseAddrs)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return joinInterfaces(links, addrs, routes), nil
}

// dump fetches one rtnetlink dump and parses it.
//
// NLM_F_DUMP_INTR: syscall.NetlinkRIB does not report it, but it hands
// back the messages with their headers, so the parsers see the flag. A
// dump the kernel flags as interrupted (a link, address or route changed
// during it) is fetched once more; if the second one is interrupted too,
// it is used as it is, as a busy boot may change addresses at any time
// and a slightly stale list beats none for a cross-check and a fallback.
func dump[T any](rib ribFunc, proto, family int, parse func([]byte) ([]T, bool, error)) ([]T, error) {
	var recs []T
	for range 2 {
		b, err := rib(proto, family)
		if err != nil {
			return nil, err
		}
		var intr bool
		recs, intr, err = parse(b)
		if err != nil {
			return nil, err
		}
		if !intr {
			break
		}
	}
	return recs, nil
}
