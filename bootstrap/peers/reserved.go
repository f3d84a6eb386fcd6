package peers

import (
	"net/netip"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// The addresses of the instance metadata service and its neighbours on
// EC2's link-local range. A peer must never be mapped onto them, or a name
// lookup would send a peer's traffic to the metadata service (and a hosts
// entry for them would shadow it).
var reservedAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // instance metadata
	netip.MustParseAddr("169.254.169.253"), // Amazon DNS
	netip.MustParseAddr("169.254.169.123"), // Amazon Time Sync
	netip.MustParseAddr("169.254.170.2"),   // ECS task metadata
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("fd00:ec2::253"),
	netip.MustParseAddr("fd00:ec2::123"),
}

// ReservedAddr says why a an address must not be given to a peer, or "".
func ReservedAddr(a netip.Addr) string {
	a = a.Unmap()
	for _, r := range reservedAddrs {
		if a == r {
			return "reserved for the instance metadata service and its neighbours"
		}
	}
	switch {
	case !a.IsValid():
		return "invalid address"
	case a.Zone() != "":
		return "scoped address (zone " + a.Zone() + ")"
	case a.IsUnspecified():
		return "unspecified address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsMulticast():
		return "multicast address"
	case a.IsLinkLocalUnicast():
		return "link-local address"
	}
	return ""
}

// ReservedName reports whether a name must never be mapped by ec2boot.
func ReservedName(name string) bool { return config.ReservedHostname(name) }
