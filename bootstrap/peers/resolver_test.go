package peers

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

func TestDirectResolverAgainstBind(t *testing.T) {
	srv := bind.Start(t, "example.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want := []netip.Addr{netip.MustParseAddr("10.0.1.1"), netip.MustParseAddr("2001:db8::11")}
	if err := srv.Update(ctx, "db-1.example.test", want); err != nil {
		t.Fatal(err)
	}
	if err := srv.NSUpdate(ctx, "update add alias.example.test. 60 CNAME db-1.example.test."); err != nil {
		t.Fatal(err)
	}
	r := DirectResolver{Server: srv.Addr}
	for _, name := range []string{"db-1.example.test", "DB-1.example.test.", "alias.example.test"} {
		got, err := r.Lookup(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		good, _ := usable(got)
		if d := cmp.Diff(want, good, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	if _, err := r.Lookup(ctx, "gone.example.test"); !errors.Is(err, ErrNoAddress) {
		t.Errorf("NXDOMAIN: err = %v, want ErrNoAddress", err)
	}
	// A name outside the zone: the server refuses (recursion is off).
	if _, err := r.Lookup(ctx, "www.elsewhere.test"); err == nil || errors.Is(err, ErrNoAddress) {
		t.Errorf("refused query: err = %v", err)
	}
}

func TestDirectResolverDeadline(t *testing.T) {
	// A UDP socket that never answers stands for a dead nameserver.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = DirectResolver{Server: pc.LocalAddr().String()}.Lookup(ctx, "db-1.example.test")
	if err == nil || errors.Is(err, ErrNoAddress) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}
