package facts

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
)

// IfAddr is one address on one of this machine's interfaces.
type IfAddr struct {
	Link  string
	Index int
	Addr  netip.Addr
	Up    bool
	// Loopback is set for lo.
	Loopback bool
	// Default is set when the interface carries a default route of the
	// address's family: the one the instance talks to the world through.
	Default bool
}

// NetlinkInterfaces lists the addresses of every interface in this network
// namespace from the kernel.
func NetlinkInterfaces() ([]IfAddr, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	defaults := map[int]map[bool]bool{} // link index -> is4 -> has default route
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := netlink.RouteList(nil, fam)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, fmt.Errorf("list routes: %w", err)
		}
		for _, r := range routes {
			if r.Dst != nil {
				if ones, _ := r.Dst.Mask.Size(); ones != 0 {
					continue
				}
			}
			if defaults[r.LinkIndex] == nil {
				defaults[r.LinkIndex] = map[bool]bool{}
			}
			defaults[r.LinkIndex][fam == netlink.FAMILY_V4] = true
		}
	}
	var out []IfAddr
	for _, l := range links {
		attrs := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, fmt.Errorf("list addresses of %s: %w", attrs.Name, err)
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			out = append(out, IfAddr{
				Link:     attrs.Name,
				Index:    attrs.Index,
				Addr:     ip,
				Up:       attrs.Flags&net.FlagUp != 0,
				Loopback: attrs.Flags&net.FlagLoopback != 0,
				Default:  defaults[attrs.Index][ip.Is4()],
			})
		}
	}
	return out, nil
}

// hasAddr reports whether any interface has a.
func hasAddr(ifs []IfAddr, a netip.Addr) bool {
	for _, i := range ifs {
		if i.Addr == a {
			return true
		}
	}
	return false
}

// primary picks the address an instance would be known by when the
// metadata service cannot say: a global address of the wanted family on
// an interface that is up, preferring the one with the default route, then
// the lowest interface index.
func primary(ifs []IfAddr, want4 bool) (IfAddr, bool) {
	var c []IfAddr
	for _, i := range ifs {
		a := i.Addr
		if !i.Up || i.Loopback || a.Is4() != want4 || !a.IsGlobalUnicast() {
			continue
		}
		c = append(c, i)
	}
	if len(c) == 0 {
		return IfAddr{}, false
	}
	sort.SliceStable(c, func(x, y int) bool {
		if c[x].Default != c[y].Default {
			return c[x].Default
		}
		return c[x].Index < c[y].Index
	})
	return c[0], true
}

// crossCheck warns when the metadata's local-ipv4 is on no interface: the
// facts may be another machine's (an image's baked state, a container on a
// bridge) and names pointed at it may not reach us.
func crossCheck(f *Facts, opt Options) {
	if !f.LocalIPv4.IsValid() {
		return
	}
	ifs, err := opt.Interfaces()
	if err != nil {
		f.Warnings = append(f.Warnings, fmt.Sprintf("cannot check local-ipv4 against the interfaces: %v", err))
		return
	}
	if !hasAddr(ifs, f.LocalIPv4) {
		f.Warnings = append(f.Warnings, fmt.Sprintf("local-ipv4 %s from the metadata is on no interface (interfaces have %s)",
			f.LocalIPv4, listAddrs(ifs)))
	}
}

func listAddrs(ifs []IfAddr) string {
	var s []string
	for _, i := range ifs {
		if i.Loopback {
			continue
		}
		s = append(s, i.Addr.String()+" on "+i.Link)
	}
	if len(s) == 0 {
		return "no addresses besides loopback"
	}
	return strings.Join(s, ", ")
}
