package facts

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
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
// namespace from the kernel, over rtnetlink: a dump of the links, one of
// the addresses and one of the IPv4 and one of the IPv6 routes (to mark
// the links that carry a default route). See netlink.go.
func NetlinkInterfaces() ([]IfAddr, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("list interfaces: open a netlink socket: %w", err)
	}
	defer h.Close()
	// A dump is answered at once; the timeout only bounds a kernel that
	// never answers, as a dump is not a network call a context could end.
	if err := h.SetSocketTimeout(netlinkTimeout); err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	return netlinkInterfaces(h)
}

const netlinkTimeout = 5 * time.Second

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
