package peers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

// manyAddrs is a DNS answer of n A records, in an order set by seed.
func manyAddrs(n int, seed uint64) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256)
	}
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// A name answering with 4,000 records contributes peers.max_addresses of
// them, the same ones whatever order DNS gave, with one warning naming the
// peer and how many were dropped.
func TestAddressesPerPeerAreCapped(t *testing.T) {
	var kept [][]netip.Addr
	for _, seed := range []uint64{1, 2} {
		dns := &fakeDNS{addrs: map[string][]string{
			"big.example.test":   append(manyAddrs(4000, seed), "2001:db8::1"),
			"small.example.test": {"10.9.0.1"},
		}}
		cfg := testConfig(map[string][]string{"app": {"big.example.test", "small.example.test"}})
		set, err := Resolve(context.Background(), Input{Config: cfg, Clock: clock.NewFake(t0), Resolver: dns})
		if err != nil {
			t.Fatal(err)
		}
		hosts := set.Roles["app"]
		if len(hosts) != 2 || len(hosts[0].Addrs) != 32 || len(hosts[1].Addrs) != 1 {
			t.Fatalf("hosts = %d, addresses %d", len(hosts), len(hosts[0].Addrs))
		}
		kept = append(kept, hosts[0].Addrs)
		want := []string{"peer big.example.test (role app): 4001 addresses, more than peers.max_addresses = 32: kept the 32 lowest (IPv4 first), dropped 3969"}
		if diff := cmp.Diff(want, set.Warnings); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
	}
	if kept[0][0] != netip.MustParseAddr("10.1.0.0") || kept[0][31] != netip.MustParseAddr("10.1.0.31") {
		t.Errorf("kept %v..%v, want the lowest", kept[0][0], kept[0][31])
	}
	if diff := cmp.Diff(kept[0], kept[1], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("another answer order kept other addresses (-first +second):\n%s", diff)
	}
}

func TestMaxAddressesConfigurable(t *testing.T) {
	dns := &fakeDNS{addrs: map[string][]string{"big.example.test": manyAddrs(10, 3)}}
	cfg := testConfig(map[string][]string{"app": {"big.example.test"}})
	cfg.Peers.MaxAddresses = 4
	set, err := Resolve(context.Background(), Input{Config: cfg, Clock: clock.NewFake(t0), Resolver: dns})
	if err != nil {
		t.Fatal(err)
	}
	if got := joinAddrs(set.Roles["app"][0].Addrs); got != "10.1.0.0, 10.1.0.1, 10.1.0.2, 10.1.0.3" {
		t.Errorf("kept %s", got)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "dropped 6") {
		t.Errorf("warnings = %q", set.Warnings)
	}
}

// Rejected addresses are reported, but not one line each without end.
func TestRejectedAddressWarningsAreBounded(t *testing.T) {
	var bad []string
	for i := range 500 {
		bad = append(bad, fmt.Sprintf("127.0.%d.%d", i/256, i%256))
	}
	dns := &fakeDNS{addrs: map[string][]string{"big.example.test": append(bad, "10.0.0.1")}}
	cfg := testConfig(map[string][]string{"app": {"big.example.test"}})
	set, err := Resolve(context.Background(), Input{Config: cfg, Clock: clock.NewFake(t0), Resolver: dns})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != maxRejectedShown+1 || !strings.HasSuffix(set.Warnings[maxRejectedShown], "492 more addresses rejected") {
		t.Errorf("%d warnings, last %q", len(set.Warnings), set.Warnings[len(set.Warnings)-1])
	}
}

// The same bound against BIND: 100 A records (BIND's own limit per name)
// come back over TCP, the UDP answer being truncated, and the set keeps 32.
func TestAddressCapAgainstBind(t *testing.T) {
	srv := bind.Start(t, "example.test")
	var addrs []netip.Addr
	for _, s := range manyAddrs(100, 7) {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Update(ctx, "big.example.test", addrs); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(map[string][]string{"app": {"big.example.test"}})
	cfg.Peers.Nameserver = srv.Addr
	set, err := Resolve(ctx, Input{Config: cfg, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	hosts := set.Roles["app"]
	if len(hosts) != 1 || len(hosts[0].Addrs) != 32 || hosts[0].Addrs[0] != netip.MustParseAddr("10.1.0.0") {
		t.Fatalf("app = %v; missing %v; warnings %v", names(hosts), set.Missing, set.Warnings)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "100 addresses") {
		t.Errorf("warnings = %q", set.Warnings)
	}
}
