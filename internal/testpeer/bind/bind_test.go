package bind

import (
	"context"
	"net/netip"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testpeer/daemon"
)

func TestUpdateLookupAndNSUpdate(t *testing.T) {
	srv := Start(t, "example.test")
	ctx := context.Background()
	want := []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")}
	if err := srv.Update(ctx, "web.example.test", want); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	got, err := srv.Lookup(ctx, "web.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("after TSIG update (-want +got):\n%s", diff)
	}

	// nsupdate with the key file, as the other tests' out-of-band edits do.
	if err := srv.NSUpdate(ctx, "update delete web.example.test. AAAA\nupdate add other.example.test. 60 A 192.0.2.99"); err != nil {
		t.Fatal(err)
	}
	got, _ = srv.Lookup(ctx, "web.example.test")
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("after nsupdate web = %v, want only %v", got, want[0])
	}
	got, _ = srv.Lookup(ctx, "other.example.test")
	if len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.99") {
		t.Errorf("other = %v", got)
	}
}

func TestUnsignedUpdateRefused(t *testing.T) {
	srv := Start(t, "example.test")
	bad := *srv
	bad.KeySecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	if err := bad.Update(context.Background(), "x.example.test", []netip.Addr{netip.MustParseAddr("192.0.2.1")}); err == nil {
		t.Fatal("an update signed with the wrong secret was accepted")
	}
	if got, _ := srv.Lookup(context.Background(), "x.example.test"); len(got) != 0 {
		t.Errorf("x = %v after a refused update", got)
	}
}

func TestStartWithFixedAddress(t *testing.T) {
	addr := "127.0.0.1:" + freePortText(t)
	srv := StartWith(t, Options{Zone: "fixed.test", Listen: addr})
	if srv.Addr != addr {
		t.Errorf("Addr = %q, want %q", srv.Addr, addr)
	}
	if err := srv.Update(context.Background(), "a.fixed.test", []netip.Addr{netip.MustParseAddr("192.0.2.7")}); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Lookup(context.Background(), "ns1.fixed.test")
	if err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("ns1 = %v, %v; want the listen address", got, err)
	}
}

func freePortText(t *testing.T) string {
	p, err := daemon.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(p)
}
