package facts

import (
	"encoding/json"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vishvananda/netlink"

	"github.com/ec2boot/ec2boot/internal/testpeer/netns"
)

var cmpAddr = cmpopts.EquateComparable(netip.Addr{})

const upFlags = syscall.IFF_UP | syscall.IFF_BROADCAST | syscall.IFF_RUNNING

func TestRouteIsDefault(t *testing.T) {
	def := nlRoute{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{2}}
	for _, tc := range []struct {
		name   string
		change func(*nlRoute)
		want   bool
	}{
		{"IPv4 main unicast 0/0", func(*nlRoute) {}, true},
		{"IPv6", func(r *nlRoute) { r.Family = syscall.AF_INET6 }, true},
		{"multicast routing family", func(r *nlRoute) { r.Family = 128 /* RTNL_FAMILY_IPMR */ }, false},
		{"prefix /1", func(r *nlRoute) { r.DstLen = 1 }, false},
		{"local table", func(r *nlRoute) { r.Table = syscall.RT_TABLE_LOCAL }, false},
		{"policy table 100", func(r *nlRoute) { r.Table = 100 }, false},
		{"policy table 1000", func(r *nlRoute) { r.Table = 1000 }, false},
		{"unreachable", func(r *nlRoute) { r.Type = syscall.RTN_UNREACHABLE }, false},
		{"blackhole", func(r *nlRoute) { r.Type = syscall.RTN_BLACKHOLE }, false},
		{"cloned", func(r *nlRoute) { r.Flags |= syscall.RTM_F_CLONED }, false},
	} {
		r := def
		tc.change(&r)
		if got := r.isDefault(); got != tc.want {
			t.Errorf("%s: isDefault = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestJoinInterfaces(t *testing.T) {
	links := []nlLink{
		{Index: 1, Name: "lo", Flags: syscall.IFF_UP | syscall.IFF_LOOPBACK},
		{Index: 2, Name: "eth0", Flags: upFlags},
		{Index: 3, Name: "eth1", Flags: upFlags},
		{Index: 4, Name: "eth2", Flags: syscall.IFF_BROADCAST},
	}
	a := netip.MustParseAddr
	addrs := []nlAddr{
		{1, a("127.0.0.1")}, {2, a("10.0.0.5")}, {3, a("10.1.0.5")}, {4, a("10.2.0.5")}, {9, a("10.9.0.9")},
		{1, a("::1")}, {2, a("2001:db8::5")}, {3, a("2001:db8:1::5")},
	}
	routes := []nlRoute{
		{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{2}},
		{Family: syscall.AF_INET, Table: 100, Type: syscall.RTN_UNICAST, Links: []int{3}},
		{Family: syscall.AF_INET, DstLen: 16, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{4}},
		{Family: syscall.AF_INET6, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{3, 4}},
		{Family: syscall.AF_INET6, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNREACHABLE, Links: []int{1}},
	}
	want := []IfAddr{
		{Link: "lo", Index: 1, Addr: a("127.0.0.1"), Up: true, Loopback: true},
		{Link: "lo", Index: 1, Addr: a("::1"), Up: true, Loopback: true},
		{Link: "eth0", Index: 2, Addr: a("10.0.0.5"), Up: true, Default: true},
		{Link: "eth0", Index: 2, Addr: a("2001:db8::5"), Up: true},
		{Link: "eth1", Index: 3, Addr: a("10.1.0.5"), Up: true},
		{Link: "eth1", Index: 3, Addr: a("2001:db8:1::5"), Up: true, Default: true},
		{Link: "eth2", Index: 4, Addr: a("10.2.0.5")},
	}
	if diff := cmp.Diff(want, joinInterfaces(links, addrs, routes), cmpAddr); diff != "" {
		t.Errorf("joinInterfaces (-want +got):\n%s", diff)
	}
}

func TestFromRoute(t *testing.T) {
	_, dst, _ := net.ParseCIDR("10.0.0.0/8")
	_, zero, _ := net.ParseCIDR("::/0")
	for _, tc := range []struct {
		name string
		in   netlink.Route
		want nlRoute
	}{
		{"no destination is 0/0", netlink.Route{Family: syscall.AF_INET, Table: 254, Type: syscall.RTN_UNICAST, LinkIndex: 2},
			nlRoute{Family: syscall.AF_INET, Table: 254, Type: syscall.RTN_UNICAST, Links: []int{2}}},
		{"the library's ::/0", netlink.Route{Family: syscall.AF_INET6, Dst: zero, Table: 254, Type: syscall.RTN_UNICAST, LinkIndex: 3},
			nlRoute{Family: syscall.AF_INET6, Table: 254, Type: syscall.RTN_UNICAST, Links: []int{3}}},
		{"prefix", netlink.Route{Family: syscall.AF_INET, Dst: dst, LinkIndex: 2},
			nlRoute{Family: syscall.AF_INET, DstLen: 8, Links: []int{2}}},
		{"multipath", netlink.Route{Family: syscall.AF_INET6, MultiPath: []*netlink.NexthopInfo{{LinkIndex: 2}, nil, {LinkIndex: 4}}},
			nlRoute{Family: syscall.AF_INET6, Links: []int{2, 4}}},
		{"unreachable, no link", netlink.Route{Family: syscall.AF_INET, Type: syscall.RTN_UNREACHABLE, Flags: syscall.RTM_F_CLONED},
			nlRoute{Family: syscall.AF_INET, Type: syscall.RTN_UNREACHABLE, Flags: syscall.RTM_F_CLONED}},
	} {
		if diff := cmp.Diff(tc.want, fromRoute(tc.in)); diff != "" {
			t.Errorf("%s: fromRoute (-want +got):\n%s", tc.name, diff)
		}
	}
}

// netnsSetup builds, as `ip -n NS …` commands: veth pairs a0, b0, p0, c0
// (peers a0p, …; no IPv6 link-local addresses, which would be random),
//   - a0: 192.0.2.10/24 and 2001:db8:1::10/64, the IPv4 default route, and
//     one of the two nexthops of the IPv6 default route;
//   - b0: 2001:db8:2::10/64, the other nexthop of the IPv6 default route;
//   - p0: point-to-point 10.9.0.1 peer 10.9.0.2, 2001:db8:9::1/64, and
//     default routes in tables 100 and 1000 only, which must not count;
//   - c0: down, 203.0.113.10/24 and 2001:db8:3::10/64;
//
// plus unreachable default routes in the main table (IPv6's names lo),
// which must not count either. Nothing is sent anywhere: the routes only
// sit in the namespace's tables.
func netnsSetup() [][]string {
	var s [][]string
	add := func(args string) { s = append(s, strings.Fields(args)) }
	for _, l := range []string{"a0", "b0", "p0", "c0"} {
		add("link add " + l + " type veth peer name " + l + "p")
		add("link set " + l + " addrgenmode none")
		add("link set " + l + "p addrgenmode none")
		add("link set " + l + "p up")
	}
	for _, l := range []string{"a0", "b0", "p0"} {
		add("link set " + l + " up")
	}
	add("addr add 192.0.2.10/24 dev a0")
	add("addr add 2001:db8:1::10/64 dev a0 nodad")
	add("addr add 2001:db8:2::10/64 dev b0 nodad")
	add("addr add 10.9.0.1 peer 10.9.0.2/32 dev p0")
	add("addr add 2001:db8:9::1/64 dev p0 nodad")
	add("addr add 203.0.113.10/24 dev c0")
	add("addr add 2001:db8:3::10/64 dev c0 nodad")
	add("route add default via 192.0.2.1 dev a0")
	add("-6 route add default nexthop via 2001:db8:1::1 dev a0 nexthop via 2001:db8:2::1 dev b0")
	add("route add unreachable default metric 4000")
	add("-6 route add unreachable default metric 4000")
	add("route add default via 10.9.0.2 dev p0 table 100")
	add("route add default via 10.9.0.2 dev p0 table 1000")
	add("-6 route add default via 2001:db8:9::2 dev p0 table 100")
	return s
}

// wantInterfaces is what NetlinkInterfaces must list in the namespace of
// netnsSetup, given its links' indexes.
func wantInterfaces(idx map[string]int) []IfAddr {
	a := netip.MustParseAddr
	return []IfAddr{
		{Link: "lo", Index: idx["lo"], Addr: a("127.0.0.1"), Up: true, Loopback: true},
		{Link: "lo", Index: idx["lo"], Addr: a("::1"), Up: true, Loopback: true},
		{Link: "a0", Index: idx["a0"], Addr: a("192.0.2.10"), Up: true, Default: true},
		{Link: "a0", Index: idx["a0"], Addr: a("2001:db8:1::10"), Up: true, Default: true},
		{Link: "b0", Index: idx["b0"], Addr: a("2001:db8:2::10"), Up: true, Default: true},
		{Link: "p0", Index: idx["p0"], Addr: a("10.9.0.1"), Up: true},
		{Link: "p0", Index: idx["p0"], Addr: a("2001:db8:9::1"), Up: true},
		{Link: "c0", Index: idx["c0"], Addr: a("203.0.113.10")},
		{Link: "c0", Index: idx["c0"], Addr: a("2001:db8:3::10")},
	}
}

// NetlinkInterfaces against the kernel, in a network namespace of its own
// (root only), compared with what the setup implies and with what
// iproute2 (`ip -j addr`, `ip -j route`) reads from the same namespace.
func TestNetlinkInterfacesNetns(t *testing.T) {
	if !netns.Reexec(t, netnsSetup()...) {
		return
	}
	got, err := NetlinkInterfaces()
	if err != nil {
		t.Fatalf("NetlinkInterfaces: %v", err)
	}
	idx := map[string]int{}
	for _, name := range []string{"lo", "a0", "b0", "p0", "c0"} {
		i, err := net.InterfaceByName(name)
		if err != nil {
			t.Fatal(err)
		}
		idx[name] = i.Index
	}
	if diff := cmp.Diff(wantInterfaces(idx), got, cmpAddr); diff != "" {
		t.Errorf("NetlinkInterfaces (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(iproute2Interfaces(t), got, cmpAddr); diff != "" {
		t.Errorf("NetlinkInterfaces (-ip -j addr/route +got):\n%s", diff)
	}
}

// iproute2Interfaces builds the IfAddr list from `ip -j addr` and the
// main table's default routes in `ip -j route`.
func iproute2Interfaces(t *testing.T) []IfAddr {
	t.Helper()
	ipJSON := func(v any, args ...string) {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-j"}, args...)...).Output()
		if err != nil {
			t.Fatalf("ip -j %s: %v", strings.Join(args, " "), err)
		}
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("ip -j %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	type route struct {
		Type     string `json:"type"` // absent for unicast
		Dst      string `json:"dst"`
		Dev      string `json:"dev"`
		Nexthops []struct {
			Dev string `json:"dev"`
		} `json:"nexthops"`
	}
	defaults := map[string]map[bool]bool{} // link -> is4 -> has a default route
	for _, fam := range []string{"-4", "-6"} {
		var routes []route
		ipJSON(&routes, fam, "route", "show", "table", "main")
		for _, r := range routes {
			if r.Dst != "default" || (r.Type != "" && r.Type != "unicast") {
				continue
			}
			devs := []string{r.Dev}
			for _, h := range r.Nexthops {
				devs = append(devs, h.Dev)
			}
			for _, d := range devs {
				if defaults[d] == nil {
					defaults[d] = map[bool]bool{}
				}
				defaults[d][fam == "-4"] = true
			}
		}
	}
	var links []struct {
		Index    int      `json:"ifindex"`
		Name     string   `json:"ifname"`
		Flags    []string `json:"flags"`
		AddrInfo []struct {
			Local string `json:"local"` // IFA_LOCAL, else IFA_ADDRESS
		} `json:"addr_info"`
	}
	ipJSON(&links, "addr", "show")
	var out []IfAddr
	for _, l := range links {
		for _, ai := range l.AddrInfo {
			a, err := netip.ParseAddr(ai.Local)
			if err != nil {
				t.Fatalf("ip -j addr: %s: %v", l.Name, err)
			}
			out = append(out, IfAddr{
				Link:     l.Name,
				Index:    l.Index,
				Addr:     a,
				Up:       slices.Contains(l.Flags, "UP"),
				Loopback: slices.Contains(l.Flags, "LOOPBACK"),
				Default:  defaults[l.Name][a.Is4()],
			})
		}
	}
	return out
}

// vethSetup is the base of TestDefaultLinksNetns: veth pairs a0 and b0
// (peers a0p, b0p; no IPv6 link-local addresses), up, with
// 192.0.2.10/24 and 2001:db8:1::10/64 on a0 and 198.51.100.10/24 and
// 2001:db8:2::10/64 on b0.
func vethSetup(extra ...string) [][]string {
	var s [][]string
	add := func(args string) { s = append(s, strings.Fields(args)) }
	for _, l := range []string{"a0", "b0"} {
		add("link add " + l + " type veth peer name " + l + "p")
		add("link set " + l + " addrgenmode none")
		add("link set " + l + "p addrgenmode none")
		add("link set " + l + "p up")
		add("link set " + l + " up")
	}
	add("addr add 192.0.2.10/24 dev a0")
	add("addr add 2001:db8:1::10/64 dev a0 nodad")
	add("addr add 198.51.100.10/24 dev b0")
	add("addr add 2001:db8:2::10/64 dev b0 nodad")
	for _, e := range extra {
		add(e)
	}
	return s
}

// TestDefaultLinksNetns sets up the routes that broke the reading of
// default routes before (ECMP defaults, whose links are only in the
// nexthops; unreachable defaults, which name lo or no link; defaults in
// policy tables, including tables past 255; routes through nexthop
// objects), each in a fresh network namespace, and checks which links
// NetlinkInterfaces marks as carrying the default route, against the
// expectation and against `ip -j`.
func TestDefaultLinksNetns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		routes []string
		// want lists "link/4" or "link/6" for each address family a link
		// carries the default route of.
		want []string
	}{
		{"none", nil, nil},
		{"IPv4 via a0", []string{"route add default via 192.0.2.1 dev a0"}, []string{"a0/4"}},
		{"IPv4 ECMP", []string{"route add default nexthop via 192.0.2.1 dev a0 nexthop via 198.51.100.1 dev b0"}, []string{"a0/4", "b0/4"}},
		{"IPv6 ECMP", []string{"-6 route add default nexthop via 2001:db8:1::1 dev a0 nexthop via 2001:db8:2::1 dev b0"}, []string{"a0/6", "b0/6"}},
		{"IPv6 via b0, IPv4 via a0", []string{"-6 route add default via 2001:db8:2::1 dev b0", "route add default via 192.0.2.1 dev a0"}, []string{"a0/4", "b0/6"}},
		{"unreachable only", []string{"route add unreachable default", "-6 route add unreachable default"}, nil},
		{"blackhole and prohibit only", []string{"route add blackhole default", "-6 route add prohibit default"}, nil},
		{"unreachable before the real one", []string{"route add unreachable default metric 1", "route add default via 192.0.2.1 dev a0 metric 100",
			"-6 route add unreachable default metric 1", "-6 route add default via 2001:db8:2::1 dev b0 metric 100"}, []string{"a0/4", "b0/6"}},
		{"policy tables only", []string{"route add default via 192.0.2.1 dev a0 table 100", "route add default via 198.51.100.1 dev b0 table 1000",
			"-6 route add default via 2001:db8:1::1 dev a0 table 300"}, nil},
		{"a route to 0/1 is not default", []string{"route add 0.0.0.0/1 via 192.0.2.1 dev a0"}, nil},
		{"nexthop object", []string{"nexthop add id 1 via 192.0.2.1 dev a0", "route add default nhid 1"}, []string{"a0/4"}},
		{"nexthop group", []string{"nexthop add id 1 via 192.0.2.1 dev a0", "nexthop add id 2 via 198.51.100.1 dev b0",
			"nexthop add id 3 group 1/2", "route add default nhid 3"}, []string{"a0/4", "b0/4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !netns.Reexec(t, vethSetup(tc.routes...)...) {
				return
			}
			got, err := NetlinkInterfaces()
			if err != nil {
				t.Fatalf("NetlinkInterfaces: %v", err)
			}
			var defaults []string
			for _, i := range got {
				if i.Default {
					fam := "/6"
					if i.Addr.Is4() {
						fam = "/4"
					}
					defaults = append(defaults, i.Link+fam)
				}
			}
			slices.Sort(defaults)
			if diff := cmp.Diff(tc.want, defaults); diff != "" {
				t.Errorf("links with the default route (-want +got):\n%s\nall: %v", diff, got)
			}
			if diff := cmp.Diff(iproute2Interfaces(t), got, cmpAddr); diff != "" {
				t.Errorf("NetlinkInterfaces (-ip -j addr/route +got):\n%s", diff)
			}
		})
	}
}
