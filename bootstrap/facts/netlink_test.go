package facts

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/internal/testpeer/netns"
)

var cmpAddr = cmpopts.EquateComparable(netip.Addr{})

// Builders of rtnetlink messages in the host's byte order, as the kernel
// sends them.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u16b(v uint16) []byte { b := make([]byte, 2); ne.PutUint16(b, v); return b }
func u32b(v uint32) []byte { b := make([]byte, 4); ne.PutUint32(b, v); return b }

// nlMsg is a message of a dump: header, payload, padding (not counted in
// nlmsg_len).
func nlMsg(typ, flags uint16, payload ...[]byte) []byte {
	p := cat(payload...)
	return pad4(cat(u32b(uint32(16+len(p))), u16b(typ), u16b(flags|syscall.NLM_F_MULTI), u32b(1), u32b(0), p))
}

func nlDone(errno int32) []byte { return nlMsg(syscall.NLMSG_DONE, 0, u32b(uint32(errno))) }

func nlErr(errno int32) []byte {
	return nlMsg(syscall.NLMSG_ERROR, 0, u32b(uint32(errno)), make([]byte, 16))
}

// attrNoPad is a route attribute without the padding after its value.
func attrNoPad(typ uint16, v []byte) []byte { return cat(u16b(uint16(4+len(v))), u16b(typ), v) }

func attr(typ uint16, v []byte) []byte { return pad4(attrNoPad(typ, v)) }

func ifinfomsg(index int32, flags uint32, attrs ...[]byte) []byte {
	return cat([]byte{syscall.AF_UNSPEC, 0}, u16b(syscall.ARPHRD_ETHER), u32b(uint32(index)), u32b(flags), u32b(0), cat(attrs...))
}

func ifaddrmsg(family, prefixlen uint8, index uint32, attrs ...[]byte) []byte {
	return cat([]byte{family, prefixlen, 0, 0}, u32b(index), cat(attrs...))
}

func rtmsg(family, dstLen, table, typ uint8, flags uint32, attrs ...[]byte) []byte {
	return cat([]byte{family, dstLen, 0, 0, table, syscall.RTPROT_BOOT, syscall.RT_SCOPE_UNIVERSE, typ}, u32b(flags), cat(attrs...))
}

func rtnh(ifindex int32, attrs ...[]byte) []byte {
	a := cat(attrs...)
	return pad4(cat(u16b(uint16(8+len(a))), []byte{0, 0}, u32b(uint32(ifindex)), a))
}

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func linkMsg(index int32, name string, flags uint32) []byte {
	return nlMsg(syscall.RTM_NEWLINK, 0, ifinfomsg(index, flags, attr(syscall.IFLA_IFNAME, append([]byte(name), 0))))
}

func addrMsg(index uint32, family uint8, attrs ...[]byte) []byte {
	return nlMsg(syscall.RTM_NEWADDR, 0, ifaddrmsg(family, 24, index, attrs...))
}

func v4addr(index uint32, a string) []byte {
	return addrMsg(index, syscall.AF_INET, attr(syscall.IFA_ADDRESS, ip(a)), attr(syscall.IFA_LOCAL, ip(a)))
}

func v6addr(index uint32, a string) []byte {
	return addrMsg(index, syscall.AF_INET6, attr(syscall.IFA_ADDRESS, ip(a)))
}

func defaultRoute(family uint8, oif int32) []byte {
	return nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(family, 0, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, 0,
		attr(syscall.RTA_TABLE, u32b(syscall.RT_TABLE_MAIN)), attr(syscall.RTA_OIF, u32b(uint32(oif)))))
}

const upFlags = syscall.IFF_UP | syscall.IFF_BROADCAST | syscall.IFF_MULTICAST | syscall.IFF_RUNNING

func TestParseLinks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       []byte
		want     []nlLink
		intr     bool
		err      error // errors.Is
		errNoneq bool
	}{
		{
			name: "lo and eth0",
			in: cat(
				linkMsg(1, "lo", syscall.IFF_UP|syscall.IFF_LOOPBACK|syscall.IFF_RUNNING),
				linkMsg(2, "eth0", upFlags),
				nlDone(0)),
			want: []nlLink{
				{Index: 1, Name: "lo", Flags: syscall.IFF_UP | syscall.IFF_LOOPBACK | syscall.IFF_RUNNING},
				{Index: 2, Name: "eth0", Flags: upFlags},
			},
		},
		{
			name: "empty dump",
			in:   nlDone(0),
		},
		{
			name: "name without NUL, last attribute unpadded",
			// syscall.ParseNetlinkRouteAttr panics on this one.
			in: cat(nlMsg(syscall.RTM_NEWLINK, 0, ifinfomsg(3, 0,
				attr(syscall.IFLA_MTU, u32b(1500)), attrNoPad(syscall.IFLA_IFNAME, []byte("ens5")[:3]))), nlDone(0)),
			want: []nlLink{{Index: 3, Name: "ens"}},
		},
		{
			name: "nested flag bit masked, other attributes and message types skipped",
			in: cat(
				nlMsg(syscall.NLMSG_NOOP, 0),
				nlMsg(syscall.RTM_NEWADDR, 0, ifaddrmsg(syscall.AF_INET, 8, 1)),
				nlMsg(syscall.RTM_NEWLINK, 0, ifinfomsg(4, upFlags,
					attr(syscall.IFLA_ADDRESS, []byte{2, 0, 0, 0, 0, 1}),
					attr(syscall.IFLA_LINKINFO|unix.NLA_F_NESTED, attr(1, []byte("veth\x00"))),
					attr(syscall.IFLA_IFNAME|unix.NLA_F_NET_BYTEORDER, []byte("v0\x00")))),
				nlErr(0), // an acknowledgement
				nlDone(0)),
			want: []nlLink{{Index: 4, Name: "v0", Flags: upFlags}},
		},
		{
			name: "interrupted",
			in: cat(linkMsg(1, "lo", syscall.IFF_LOOPBACK),
				nlMsg(syscall.RTM_NEWLINK, unix.NLM_F_DUMP_INTR, ifinfomsg(2, 0)),
				nlDone(0)),
			want: []nlLink{{Index: 1, Name: "lo", Flags: syscall.IFF_LOOPBACK}, {Index: 2}},
			intr: true,
		},
		{
			name: "interrupted flag on DONE only",
			in:   cat(linkMsg(1, "lo", 0), nlMsg(syscall.NLMSG_DONE, unix.NLM_F_DUMP_INTR, u32b(0))),
			want: []nlLink{{Index: 1, Name: "lo"}},
			intr: true,
		},
		{
			name: "records after DONE ignored",
			in:   cat(linkMsg(1, "lo", 0), nlDone(0), linkMsg(2, "eth0", 0)),
			want: []nlLink{{Index: 1, Name: "lo"}},
		},
		{name: "DONE with an error", in: cat(linkMsg(1, "lo", 0), nlDone(-int32(syscall.EBUSY))), err: syscall.EBUSY},
		{name: "NLMSG_ERROR", in: nlErr(-int32(syscall.EPERM)), err: syscall.EPERM},
		{name: "short NLMSG_ERROR", in: nlMsg(syscall.NLMSG_ERROR, 0, []byte{1, 2}), err: errMalformed},
		{name: "no DONE", in: linkMsg(1, "lo", 0), err: errMalformed},
		{name: "empty", in: nil, err: errMalformed},
		{name: "message longer than the dump", in: linkMsg(1, "lo", 0)[:20], err: errMalformed},
		{name: "short ifinfomsg", in: cat(nlMsg(syscall.RTM_NEWLINK, 0, make([]byte, 15)), nlDone(0)), err: errMalformed},
		{
			name: "attribute longer than the message",
			in:   cat(nlMsg(syscall.RTM_NEWLINK, 0, ifinfomsg(1, 0, u16b(9), u16b(syscall.IFLA_IFNAME), []byte("lo\x00\x00"))), nlDone(0)),
			err:  errMalformed,
		},
		{
			name: "attribute shorter than its header",
			in:   cat(nlMsg(syscall.RTM_NEWLINK, 0, ifinfomsg(1, 0, u16b(2), u16b(syscall.IFLA_IFNAME))), nlDone(0)),
			err:  errMalformed,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, intr, err := parseLinks(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("parseLinks: error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseLinks: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseLinks (-want +got):\n%s", diff)
			}
			if intr != tc.intr {
				t.Errorf("parseLinks: interrupted %v, want %v", intr, tc.intr)
			}
		})
	}
}

func TestParseAddrs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []nlAddr
		err  error
	}{
		{
			name: "IPv4 then IPv6, kernel order kept",
			in:   cat(v4addr(1, "127.0.0.1"), v4addr(2, "10.0.0.5"), v6addr(1, "::1"), v6addr(2, "2001:db8::5"), nlDone(0)),
			want: []nlAddr{
				{1, netip.MustParseAddr("127.0.0.1")}, {2, netip.MustParseAddr("10.0.0.5")},
				{1, netip.MustParseAddr("::1")}, {2, netip.MustParseAddr("2001:db8::5")},
			},
		},
		{
			name: "IPv4 point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours",
			in: cat(addrMsg(3, syscall.AF_INET, attr(syscall.IFA_ADDRESS, ip("10.9.0.2")), attr(syscall.IFA_LOCAL, ip("10.9.0.1"))),
				// the same with the attributes the other way round
				addrMsg(3, syscall.AF_INET, attr(syscall.IFA_LOCAL, ip("10.9.0.3")), attr(syscall.IFA_ADDRESS, ip("10.9.0.4"))),
				nlDone(0)),
			want: []nlAddr{{3, netip.MustParseAddr("10.9.0.1")}, {3, netip.MustParseAddr("10.9.0.3")}},
		},
		{
			name: "IPv6 point-to-point",
			in:   cat(addrMsg(4, syscall.AF_INET6, attr(syscall.IFA_ADDRESS, ip("2001:db8::2")), attr(syscall.IFA_LOCAL, ip("2001:db8::1"))), nlDone(0)),
			want: []nlAddr{{4, netip.MustParseAddr("2001:db8::1")}},
		},
		{
			name: "IPv4 with IFA_ADDRESS only",
			in:   cat(addrMsg(2, syscall.AF_INET, attr(syscall.IFA_ADDRESS, ip("192.0.2.1"))), nlDone(0)),
			want: []nlAddr{{2, netip.MustParseAddr("192.0.2.1")}},
		},
		{
			name: "v4-mapped IPv6 unmapped",
			in:   cat(v6addr(2, "::ffff:192.0.2.7"), nlDone(0)),
			want: []nlAddr{{2, netip.MustParseAddr("192.0.2.7")}},
		},
		{
			name: "other attributes skipped",
			in: cat(addrMsg(2, syscall.AF_INET, attr(syscall.IFA_LABEL, []byte("eth0\x00")), attr(syscall.IFA_BROADCAST, ip("10.0.0.255")),
				attr(syscall.IFA_LOCAL, ip("10.0.0.5")), attr(syscall.IFA_ADDRESS, ip("10.0.0.5")),
				attr(syscall.IFA_CACHEINFO, make([]byte, 16)), attrNoPad(unix.IFA_FLAGS, u32b(0x80))), nlDone(0)),
			want: []nlAddr{{2, netip.MustParseAddr("10.0.0.5")}},
		},
		{
			name: "no address, wrong length, other family: skipped",
			in: cat(addrMsg(2, syscall.AF_INET),
				addrMsg(2, syscall.AF_INET, attr(syscall.IFA_ADDRESS, ip("2001:db8::1"))),
				addrMsg(2, syscall.AF_INET6, attr(syscall.IFA_ADDRESS, ip("192.0.2.1"))),
				addrMsg(2, syscall.AF_INET, attr(syscall.IFA_LOCAL, []byte{1, 2, 3})),
				addrMsg(2, syscall.AF_PACKET, attr(syscall.IFA_ADDRESS, ip("192.0.2.1"))),
				nlDone(0)),
		},
		{name: "short ifaddrmsg", in: cat(nlMsg(syscall.RTM_NEWADDR, 0, make([]byte, 7)), nlDone(0)), err: errMalformed},
		{name: "bad attribute", in: cat(addrMsg(2, syscall.AF_INET, u16b(40), u16b(syscall.IFA_LOCAL), ip("10.0.0.1")), nlDone(0)), err: errMalformed},
		{name: "NLMSG_ERROR", in: nlErr(-int32(syscall.EACCES)), err: syscall.EACCES},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := parseAddrs(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("parseAddrs: error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseAddrs: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpAddr); diff != "" {
				t.Errorf("parseAddrs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRoutes(t *testing.T) {
	gw := func(a string) []byte { return attr(syscall.RTA_GATEWAY, ip(a)) }
	for _, tc := range []struct {
		name string
		in   []byte
		want []nlRoute
		err  error
	}{
		{
			name: "IPv4 default via eth0, connected route",
			in: cat(
				nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET, 0, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, 0,
					attr(syscall.RTA_TABLE, u32b(syscall.RT_TABLE_MAIN)), gw("10.0.0.1"), attr(syscall.RTA_OIF, u32b(2)))),
				nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET, 24, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, 0,
					attr(syscall.RTA_DST, ip("10.0.0.0")), attr(syscall.RTA_OIF, u32b(2)))),
				nlDone(0)),
			want: []nlRoute{
				{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{2}},
				{Family: syscall.AF_INET, DstLen: 24, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{2}},
			},
		},
		{
			name: "table from 256 up: RT_TABLE_COMPAT in rtmsg, whole in RTA_TABLE",
			in: cat(nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET, 0, syscall.RT_TABLE_COMPAT, syscall.RTN_UNICAST, 0,
				attr(syscall.RTA_TABLE, u32b(1000)), attr(syscall.RTA_OIF, u32b(3)))), nlDone(0)),
			want: []nlRoute{{Family: syscall.AF_INET, Table: 1000, Type: syscall.RTN_UNICAST, Links: []int{3}}},
		},
		{
			name: "IPv6 ECMP default: every nexthop's link",
			in: cat(nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET6, 0, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, 0,
				attr(syscall.RTA_TABLE, u32b(syscall.RT_TABLE_MAIN)), attr(syscall.RTA_PRIORITY, u32b(1024)),
				attr(syscall.RTA_MULTIPATH|unix.NLA_F_NESTED, cat(rtnh(2, gw("fe80::1")), rtnh(5, gw("fe80::2")))))), nlDone(0)),
			want: []nlRoute{{Family: syscall.AF_INET6, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{2, 5}}},
		},
		{
			name: "unreachable, cloned, no attributes",
			in: cat(
				nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET6, 0, syscall.RT_TABLE_MAIN, syscall.RTN_UNREACHABLE, 0, attr(syscall.RTA_OIF, u32b(1)))),
				nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET, 32, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, syscall.RTM_F_CLONED)),
				nlDone(0)),
			want: []nlRoute{
				{Family: syscall.AF_INET6, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNREACHABLE, Links: []int{1}},
				{Family: syscall.AF_INET, DstLen: 32, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Flags: syscall.RTM_F_CLONED},
			},
		},
		{
			name: "short RTA_TABLE and RTA_OIF ignored",
			in: cat(nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET, 0, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, 0,
				attr(syscall.RTA_TABLE, []byte{1}), attr(syscall.RTA_OIF, []byte{2, 0}))), nlDone(0)),
			want: []nlRoute{{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST}},
		},
		{name: "short rtmsg", in: cat(nlMsg(syscall.RTM_NEWROUTE, 0, make([]byte, 11)), nlDone(0)), err: errMalformed},
		{
			name: "bad nexthop",
			in: cat(nlMsg(syscall.RTM_NEWROUTE, 0, rtmsg(syscall.AF_INET6, 0, syscall.RT_TABLE_MAIN, syscall.RTN_UNICAST, 0,
				attr(syscall.RTA_MULTIPATH, cat(u16b(4), []byte{0, 0}, u32b(2))))), nlDone(0)),
			err: errMalformed,
		},
		{name: "DONE with an error", in: nlDone(-int32(syscall.EINTR)), err: syscall.EINTR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := parseRoutes(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("parseRoutes: error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRoutes: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseRoutes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMultipath(t *testing.T) {
	gw := attr(syscall.RTA_GATEWAY, ip("192.0.2.1"))
	for _, tc := range []struct {
		name string
		in   []byte
		want []int
		err  bool
	}{
		{name: "empty", in: nil},
		{name: "one", in: rtnh(7), want: []int{7}},
		{name: "with attributes", in: cat(rtnh(2, gw), rtnh(3, gw, attr(syscall.RTA_FLOW, u32b(9)))), want: []int{2, 3}},
		{name: "last one unpadded", in: cat(rtnh(2), rtnh(3, attrNoPad(99, []byte{1}))[:13]), want: []int{2, 3}},
		{name: "trailing bytes shorter than a nexthop", in: cat(rtnh(2), []byte{1, 2, 3}), want: []int{2}},
		{name: "rtnh_len under 8", in: cat(u16b(7), []byte{0, 0}, u32b(2)), err: true},
		{name: "rtnh_len past the end", in: cat(u16b(16), []byte{0, 0}, u32b(2)), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMultipath(tc.in)
			if tc.err {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("parseMultipath: error %v, want %v", err, errMalformed)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseMultipath: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseMultipath (-want +got):\n%s", diff)
			}
		})
	}
}

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

// fakeRIB serves canned dumps, in turn for each (proto, family).
type fakeRIB struct {
	dumps map[[2]int][][]byte
	err   map[[2]int]error
	calls map[[2]int]int
}

func (f *fakeRIB) rib(proto, family int) ([]byte, error) {
	k := [2]int{proto, family}
	if f.calls == nil {
		f.calls = map[[2]int]int{}
	}
	f.calls[k]++
	if err := f.err[k]; err != nil {
		return nil, err
	}
	d := f.dumps[k]
	if len(d) == 0 {
		return nlDone(0), nil
	}
	b := d[0]
	if len(d) > 1 {
		f.dumps[k] = d[1:]
	}
	return b, nil
}

func TestNetlinkInterfacesFake(t *testing.T) {
	link, addr := [2]int{syscall.RTM_GETLINK, syscall.AF_UNSPEC}, [2]int{syscall.RTM_GETADDR, syscall.AF_UNSPEC}
	route4, route6 := [2]int{syscall.RTM_GETROUTE, syscall.AF_INET}, [2]int{syscall.RTM_GETROUTE, syscall.AF_INET6}
	intr := func(b []byte) []byte { // flag the dump's DONE as interrupted
		b = slices.Clone(b)
		ne.PutUint16(b[len(b)-20+6:], ne.Uint16(b[len(b)-20+6:])|unix.NLM_F_DUMP_INTR)
		return b
	}
	links := cat(linkMsg(1, "lo", syscall.IFF_UP|syscall.IFF_LOOPBACK), linkMsg(2, "eth0", upFlags), nlDone(0))
	addrs := cat(v4addr(1, "127.0.0.1"), v4addr(2, "10.0.0.5"), nlDone(0))
	a := netip.MustParseAddr

	t.Run("interrupted dump fetched again", func(t *testing.T) {
		f := &fakeRIB{dumps: map[[2]int][][]byte{
			link:   {intr(cat(linkMsg(1, "lo", 0), nlDone(0))), links},
			addr:   {addrs},
			route4: {intr(nlDone(0)), cat(defaultRoute(syscall.AF_INET, 2), nlDone(0))},
		}}
		got, err := netlinkInterfaces(f.rib)
		if err != nil {
			t.Fatal(err)
		}
		want := []IfAddr{
			{Link: "lo", Index: 1, Addr: a("127.0.0.1"), Up: true, Loopback: true},
			{Link: "eth0", Index: 2, Addr: a("10.0.0.5"), Up: true, Default: true},
		}
		if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
			t.Errorf("netlinkInterfaces (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[[2]int]int{link: 2, addr: 1, route4: 2, route6: 1}, f.calls); diff != "" {
			t.Errorf("dumps fetched (-want +got):\n%s", diff)
		}
	})
	t.Run("interrupted twice: the second one used", func(t *testing.T) {
		f := &fakeRIB{dumps: map[[2]int][][]byte{
			link: {intr(cat(linkMsg(1, "lo", 0), nlDone(0))), intr(links), links},
			addr: {addrs},
		}}
		got, err := netlinkInterfaces(f.rib)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || f.calls[link] != 2 {
			t.Errorf("got %v after %d link dumps, want 2 addresses after 2", got, f.calls[link])
		}
	})
	for _, tc := range []struct {
		k    [2]int
		err  error
		want string
	}{
		{link, syscall.EPERM, "list interfaces: "},
		{route4, syscall.EACCES, "list routes: "},
		{route6, syscall.EAFNOSUPPORT, "list routes: "},
		{addr, syscall.EINVAL, "list addresses: "},
	} {
		t.Run("error "+tc.want, func(t *testing.T) {
			f := &fakeRIB{dumps: map[[2]int][][]byte{link: {links}, addr: {addrs}}, err: map[[2]int]error{tc.k: tc.err}}
			_, err := netlinkInterfaces(f.rib)
			if !errors.Is(err, tc.err) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("netlinkInterfaces: error %v, want %q wrapping %v", err, tc.want, tc.err)
			}
		})
	}
	t.Run("malformed dump", func(t *testing.T) {
		f := &fakeRIB{dumps: map[[2]int][][]byte{link: {links}, route6: {nlMsg(syscall.RTM_NEWROUTE, 0, []byte{1})}}}
		_, err := netlinkInterfaces(f.rib)
		if !errors.Is(err, errMalformed) || !strings.HasPrefix(err.Error(), "list routes: ") {
			t.Errorf("netlinkInterfaces: error %v, want list routes: …%v", err, errMalformed)
		}
	})
}

// Golden dumps, captured from the kernel (Linux 6.x, little-endian) in the
// namespace that TestNetlinkInterfacesNetns sets up, by running it with
// EC2BOOT_UPDATE_NETLINK_GOLDEN=1.
var goldenDumps = []struct {
	file          string
	proto, family int
}{
	{"links.hex", syscall.RTM_GETLINK, syscall.AF_UNSPEC},
	{"addrs.hex", syscall.RTM_GETADDR, syscall.AF_UNSPEC},
	{"routes4.hex", syscall.RTM_GETROUTE, syscall.AF_INET},
	{"routes6.hex", syscall.RTM_GETROUTE, syscall.AF_INET6},
}

func goldenPath(file string) string { return filepath.Join("testdata", "netlink", file) }

func readGolden(tb testing.TB, file string) []byte {
	tb.Helper()
	text, err := os.ReadFile(goldenPath(file))
	if err != nil {
		tb.Fatal(err)
	}
	var h strings.Builder
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			h.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return b
}

func writeGolden(t *testing.T, file string, b []byte) {
	var w strings.Builder
	fmt.Fprintf(&w, "# rtnetlink dump captured by TestNetlinkInterfacesNetns (EC2BOOT_UPDATE_NETLINK_GOLDEN=1)\n")
	for len(b) > 0 {
		n := min(16, len(b))
		w.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	if err := os.MkdirAll(filepath.Dir(goldenPath(file)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenPath(file), []byte(w.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goldenRIB serves the golden dumps.
func goldenRIB(tb testing.TB) ribFunc {
	dumps := map[[2]int][]byte{}
	for _, g := range goldenDumps {
		dumps[[2]int{g.proto, g.family}] = readGolden(tb, g.file)
	}
	return func(proto, family int) ([]byte, error) {
		b, ok := dumps[[2]int{proto, family}]
		if !ok {
			return nil, fmt.Errorf("no golden dump for %d/%d", proto, family)
		}
		return b, nil
	}
}

func littleEndian() bool { return ne.Uint16([]byte{1, 0}) == 1 }

// The golden namespace: lo 1, veth pairs a0p 2/a0 3, b0p 4/b0 5, p0p 6/p0 7,
// c0p 8/c0 9 (see netnsSetup).
func goldenWant() []IfAddr {
	return wantInterfaces(map[string]int{"lo": 1, "a0": 3, "b0": 5, "p0": 7, "c0": 9})
}

func TestGoldenDumps(t *testing.T) {
	if !littleEndian() {
		t.Skip("golden dumps are little-endian, as netlink on the machine that captured them")
	}
	rib := goldenRIB(t)
	links, intr, err := parseLinks(must(rib(syscall.RTM_GETLINK, syscall.AF_UNSPEC)))
	if err != nil || intr {
		t.Fatalf("parseLinks: %v (interrupted %v)", err, intr)
	}
	up := uint32(syscall.IFF_UP | syscall.IFF_BROADCAST | syscall.IFF_MULTICAST | syscall.IFF_RUNNING | unix.IFF_LOWER_UP)
	wantLinks := []nlLink{
		{Index: 1, Name: "lo", Flags: syscall.IFF_UP | syscall.IFF_LOOPBACK | syscall.IFF_RUNNING | unix.IFF_LOWER_UP},
		{Index: 2, Name: "a0p", Flags: up}, {Index: 3, Name: "a0", Flags: up},
		{Index: 4, Name: "b0p", Flags: up}, {Index: 5, Name: "b0", Flags: up},
		{Index: 6, Name: "p0p", Flags: up}, {Index: 7, Name: "p0", Flags: up},
		{Index: 8, Name: "c0p", Flags: syscall.IFF_UP | syscall.IFF_BROADCAST | syscall.IFF_MULTICAST}, // up, its peer down: no carrier
		{Index: 9, Name: "c0", Flags: syscall.IFF_BROADCAST | syscall.IFF_MULTICAST},
	}
	if diff := cmp.Diff(wantLinks, links); diff != "" {
		t.Errorf("parseLinks (-want +got):\n%s", diff)
	}

	addrs, intr, err := parseAddrs(must(rib(syscall.RTM_GETADDR, syscall.AF_UNSPEC)))
	if err != nil || intr {
		t.Fatalf("parseAddrs: %v (interrupted %v)", err, intr)
	}
	a := netip.MustParseAddr
	wantAddrs := []nlAddr{
		{1, a("127.0.0.1")}, {3, a("192.0.2.10")}, {7, a("10.9.0.1")}, {9, a("203.0.113.10")},
		{1, a("::1")}, {3, a("2001:db8:1::10")}, {5, a("2001:db8:2::10")}, {7, a("2001:db8:9::1")}, {9, a("2001:db8:3::10")},
	}
	if diff := cmp.Diff(wantAddrs, addrs, cmpAddr); diff != "" {
		t.Errorf("parseAddrs (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		family int
		file   string
		n      int       // routes in all tables, as `ip route show table all` lists them
		want   []nlRoute // those to 0/0
	}{
		{syscall.AF_INET, "routes4.hex", 13, []nlRoute{
			{Family: syscall.AF_INET, Table: 100, Type: syscall.RTN_UNICAST, Links: []int{7}},
			{Family: syscall.AF_INET, Table: 1000, Type: syscall.RTN_UNICAST, Links: []int{7}},
			{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{3}},
			{Family: syscall.AF_INET, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNREACHABLE},
		}},
		{syscall.AF_INET6, "routes6.hex", 17, []nlRoute{
			{Family: syscall.AF_INET6, Table: 100, Type: syscall.RTN_UNICAST, Links: []int{7}},
			{Family: syscall.AF_INET6, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNICAST, Links: []int{3, 5}},
			{Family: syscall.AF_INET6, Table: syscall.RT_TABLE_MAIN, Type: syscall.RTN_UNREACHABLE, Links: []int{1}},
		}},
	} {
		routes, intr, err := parseRoutes(readGolden(t, tc.file))
		if err != nil || intr {
			t.Fatalf("%s: parseRoutes: %v (interrupted %v)", tc.file, err, intr)
		}
		if len(routes) != tc.n {
			t.Errorf("%s: %d routes, want %d", tc.file, len(routes), tc.n)
		}
		var defaults []nlRoute
		for _, r := range routes {
			if r.Family != uint8(tc.family) {
				t.Errorf("%s: route of family %d", tc.file, r.Family)
			}
			if r.DstLen == 0 {
				defaults = append(defaults, r)
			}
		}
		if diff := cmp.Diff(tc.want, defaults); diff != "" {
			t.Errorf("%s: routes to 0/0 (-want +got):\n%s", tc.file, diff)
		}
	}

	got, err := netlinkInterfaces(rib)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(goldenWant(), got, cmpAddr); diff != "" {
		t.Errorf("netlinkInterfaces on the golden dumps (-want +got):\n%s", diff)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
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

	if os.Getenv("EC2BOOT_UPDATE_NETLINK_GOLDEN") != "" {
		for _, g := range goldenDumps {
			b, err := syscall.NetlinkRIB(g.proto, g.family)
			if err != nil {
				t.Fatal(err)
			}
			writeGolden(t, g.file, b)
		}
		t.Logf("wrote the golden dumps under %s", goldenPath(""))
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

// Fuzzing: no input may make a parser panic, and what they return holds
// together.

func fuzzSeeds(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	if littleEndian() {
		for _, g := range goldenDumps {
			f.Add(readGolden(f, g.file))
		}
	}
}

func FuzzParseLinks(f *testing.F) {
	fuzzSeeds(f,
		cat(linkMsg(1, "lo", syscall.IFF_UP|syscall.IFF_LOOPBACK), linkMsg(2, "eth0", upFlags), nlDone(0)),
		cat(nlMsg(syscall.RTM_NEWLINK, 0, ifinfomsg(3, 0, attrNoPad(syscall.IFLA_IFNAME, []byte("ens")))), nlDone(0)),
		nlErr(-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		links, _, err := parseLinks(b)
		if err != nil && links != nil {
			t.Errorf("parseLinks: records and error %v", err)
		}
		joinInterfaces(links, nil, nil)
	})
}

func FuzzParseAddrs(f *testing.F) {
	fuzzSeeds(f,
		cat(v4addr(1, "127.0.0.1"), v6addr(1, "::1"), nlDone(0)),
		cat(addrMsg(3, syscall.AF_INET, attr(syscall.IFA_ADDRESS, ip("10.9.0.2")), attr(syscall.IFA_LOCAL, ip("10.9.0.1"))), nlDone(0)),
		nlDone(-4))
	f.Fuzz(func(t *testing.T, b []byte) {
		addrs, _, err := parseAddrs(b)
		if err != nil && addrs != nil {
			t.Errorf("parseAddrs: records and error %v", err)
		}
		for _, a := range addrs {
			if !a.Addr.IsValid() || a.Addr.Is4In6() || a.Addr.Zone() != "" {
				t.Errorf("parseAddrs: address %v", a.Addr)
			}
		}
		joinInterfaces([]nlLink{{Index: 1}, {Index: 2}}, addrs, nil)
	})
}

func FuzzParseRoutes(f *testing.F) {
	fuzzSeeds(f,
		cat(defaultRoute(syscall.AF_INET, 2), nlDone(0)),
		cat(nlMsg(syscall.RTM_NEWROUTE, unix.NLM_F_DUMP_INTR, rtmsg(syscall.AF_INET6, 0, syscall.RT_TABLE_COMPAT, syscall.RTN_UNICAST, 0,
			attr(syscall.RTA_TABLE, u32b(1000)), attr(syscall.RTA_MULTIPATH, cat(rtnh(2), rtnh(5, attr(syscall.RTA_GATEWAY, ip("fe80::1"))))))), nlDone(0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, _, err := parseRoutes(b)
		if err != nil && routes != nil {
			t.Errorf("parseRoutes: records and error %v", err)
		}
		for _, r := range routes {
			r.isDefault()
		}
		joinInterfaces([]nlLink{{Index: 1}, {Index: 2}}, []nlAddr{{1, netip.IPv4Unspecified()}, {2, netip.IPv6Unspecified()}}, routes)
	})
}

func FuzzParseMultipath(f *testing.F) {
	f.Add(cat(rtnh(2), rtnh(3, attr(syscall.RTA_GATEWAY, ip("192.0.2.1")))))
	f.Add(cat(u16b(9), []byte{0, 0}, u32b(2), []byte{1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		links, err := parseMultipath(b)
		if err == nil && len(links) > len(b)/sizeofRtNexthop {
			t.Errorf("parseMultipath: %d nexthops from %d bytes", len(links), len(b))
		}
	})
}
