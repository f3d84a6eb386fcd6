package facts_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/internal/testpeer/fakeimds"
)

var (
	addrEq = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	t0     = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
)

func client(t *testing.T, url string) *imds.Client { return benchClient(t, url) }

func benchClient(t testing.TB, url string) *imds.Client {
	t.Helper()
	c, err := imds.New(imds.Options{
		Endpoint:       url,
		RequestTimeout: 500 * time.Millisecond,
		TokenTimeout:   200 * time.Millisecond,
		Backoff:        imds.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// ifaces returns a fixed interface list: eth0 with addrs (and the default
// route), and lo.
func ifaces(addrs ...string) func() ([]facts.IfAddr, error) {
	return func() ([]facts.IfAddr, error) {
		out := []facts.IfAddr{{Link: "lo", Index: 1, Addr: netip.MustParseAddr("127.0.0.1"), Up: true, Loopback: true}}
		for _, a := range addrs {
			out = append(out, facts.IfAddr{Link: "eth0", Index: 2, Addr: netip.MustParseAddr(a), Up: true, Default: true})
		}
		return out, nil
	}
}

func opts(addrs ...string) facts.Options {
	return facts.Options{Clock: clock.NewFake(t0), Interfaces: ifaces(addrs...)}
}

// fullFacts is what fakeimds.Metadata describes.
func fullFacts() *facts.Facts {
	return &facts.Facts{
		InstanceID:       "i-0123456789abcdef0",
		ImageID:          "ami-0abcdef1234567890",
		InstanceType:     "m5d.large",
		Region:           "eu-west-1",
		AvailabilityZone: "eu-west-1b",
		LocalIPv4:        netip.MustParseAddr("10.1.2.3"),
		PublicIPv4:       netip.MustParseAddr("203.0.113.7"),
		IPv6:             netip.MustParseAddr("2001:db8:1::7"),
		LocalHostname:    "ip-10-1-2-3.eu-west-1.compute.internal",
		PublicHostname:   "ec2-203-0-113-7.eu-west-1.compute.amazonaws.com",
		MAC:              "0e:49:61:0f:c3:11",
		BlockDevices:     map[string]string{"ami": "/dev/xvda", "root": "/dev/xvda", "ephemeral0": "/dev/sdb", "ephemeral1": "/dev/sdc"},
		InstanceStores:   []string{"/dev/sdb", "/dev/sdc"},
		GatheredAt:       t0,
		Source:           facts.SourceIMDS,
	}
}

func TestGatherFewestRoundTrips(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if diff := cmp.Diff(fullFacts(), got, addrEq); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	// One token, one listing, then each value once.
	if reqs[0].Method != "PUT" || reqs[1].Path != "/latest/meta-data/block-device-mapping" {
		t.Errorf("first requests %v, %v; want the token, then the listing alone", reqs[0], reqs[1])
	}
	seen := map[string]int{}
	for _, r := range reqs {
		seen[r.Method+" "+r.Path]++
	}
	want := map[string]int{"PUT /latest/api/token": 1, "GET /latest/meta-data/block-device-mapping": 1}
	for p := range fakeimds.Metadata() {
		if p != "/latest/user-data" {
			want["GET "+p] = 1
		}
	}
	// Asked for in the same wave and absent here (404): the fleet facts.
	for _, p := range []string{"/latest/meta-data/ami-launch-index", "/latest/meta-data/instance-life-cycle",
		"/latest/meta-data/autoscaling/target-lifecycle-state", "/latest/meta-data/tags/instance",
		"/latest/dynamic/instance-identity/document"} {
		want["GET "+p] = 1
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestGatherAbsentIsNotAnError(t *testing.T) {
	md := fakeimds.Metadata()
	for _, p := range []string{"public-ipv4", "public-hostname", "placement/region",
		"network/interfaces/macs/0e:49:61:0f:c3:11/ipv6s", "block-device-mapping/ami",
		"block-device-mapping/root", "block-device-mapping/ephemeral0", "block-device-mapping/ephemeral1"} {
		delete(md, "/latest/meta-data/"+p)
	}
	srv := fakeimds.New(t, md)
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	want := fullFacts()
	want.PublicIPv4, want.IPv6, want.PublicHostname = netip.Addr{}, netip.Addr{}, ""
	want.BlockDevices, want.InstanceStores = nil, nil
	// Without placement/region the region comes from the zone.
	if diff := cmp.Diff(want, got, addrEq); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
}

func TestGatherBadValues(t *testing.T) {
	md := fakeimds.Metadata()
	md["/latest/meta-data/public-ipv4"] = "<html><title>404 - Not Found</title></html>"
	md["/latest/meta-data/public-hostname"] = "<html>"
	md["/latest/meta-data/local-hostname"] = "ip-10-1-2-3.example.internal other.internal"
	md["/latest/meta-data/block-device-mapping/ephemeral1"] = "../../etc/passwd"
	srv := fakeimds.New(t, md)
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if got.PublicIPv4.IsValid() || got.PublicHostname != "" {
		t.Errorf("HTML kept as a value: %v %q", got.PublicIPv4, got.PublicHostname)
	}
	if got.LocalHostname != "ip-10-1-2-3.example.internal" {
		t.Errorf("LocalHostname = %q, want the first name", got.LocalHostname)
	}
	if diff := cmp.Diff([]string{"/dev/sdb"}, got.InstanceStores); diff != "" {
		t.Errorf("InstanceStores (-want +got):\n%s", diff)
	}
	want := []string{
		`block-device-mapping/ephemeral1: "../../etc/passwd" is not a device name; left out`,
		`metadata public-hostname: "<html>" is not a host name; treated as absent`,
		`metadata public-ipv4: "<html><title>404 - Not Found</title></ht…" is not an address; treated as absent`,
	}
	gotW := append([]string(nil), got.Warnings...)
	slices.Sort(gotW)
	if diff := cmp.Diff(want, gotW); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestGatherRequiredInstanceID(t *testing.T) {
	for name, value := range map[string]*string{"absent": nil, "garbage": ptr("<html>"), "empty": ptr("")} {
		t.Run(name, func(t *testing.T) {
			md := fakeimds.Metadata()
			delete(md, "/latest/meta-data/instance-id")
			if value != nil {
				md["/latest/meta-data/instance-id"] = *value
			}
			srv := fakeimds.New(t, md)
			_, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts())
			if err == nil || !strings.Contains(err.Error(), "instance-id") {
				t.Fatalf("Gather err = %v, want an instance-id error", err)
			}
		})
	}
}

// An optional value that fails (rather than being absent) fails the
// gathering: an error is never taken for "no public address".
func TestGatherErrorIsNotAbsence(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.FailNext("GET", "/latest/meta-data/public-ipv4", 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	_, err := facts.Gather(ctxFor(t, 300*time.Millisecond), client(t, srv.URL), opts("10.1.2.3"))
	if !errors.Is(err, imds.ErrUnreachable) || !strings.Contains(err.Error(), "public-ipv4") {
		t.Fatalf("Gather err = %v, want ErrUnreachable naming public-ipv4", err)
	}
}

func TestGatherCrossChecksLocalIPv4(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("172.17.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"local-ipv4 10.1.2.3 from the metadata is on no interface (interfaces have 172.17.0.2 on eth0)"}
	if diff := cmp.Diff(want, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	o := opts()
	o.Interfaces = func() ([]facts.IfAddr, error) { return nil, errors.New("netlink: operation not permitted") }
	got, err = facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "operation not permitted") {
		t.Errorf("warnings %q, want one naming the netlink failure", got.Warnings)
	}
}

func TestGatherLateStart(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.UpAfter(250 * time.Millisecond)
	got, err := facts.Gather(ctxFor(t, 10*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if got.InstanceID != "i-0123456789abcdef0" || got.Source != facts.SourceIMDS {
		t.Errorf("got %s from %s", got.InstanceID, got.Source)
	}
}

func TestParseListing(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "ami\nebs0\nephemeral0\nroot\nswap", want: []string{"ami", "ebs0", "ephemeral0", "root", "swap"}},
		{in: "ami\r\nroot\r\n\n", want: []string{"ami", "root"}},
		{in: "network/\nmac", want: []string{"network/", "mac"}},
		{in: "", want: nil},
		{in: "ami\n../x", wantErr: true},
		{in: "a/b", wantErr: true},
		{in: "..", wantErr: true},
		{in: "a?b", wantErr: true},
		{in: "/", wantErr: true},
	}
	for _, tt := range tests {
		got, err := facts.ParseListing([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseListing(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseListing(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseBlockDevices(t *testing.T) {
	devs, stores, problems := facts.ParseBlockDevices(map[string]string{
		"ami": "/dev/xvda", "root": "/dev/xvda", "ebs1": "sdf", "ephemeral10": "sdk",
		"ephemeral2": "xvdd\n", "ephemeral0": "sdb", "swap": "sdcs", "Bad": "sdz", "ephemeral1": "sd c",
	})
	wantDevs := map[string]string{"ami": "/dev/xvda", "root": "/dev/xvda", "ebs1": "/dev/sdf",
		"ephemeral10": "/dev/sdk", "ephemeral2": "/dev/xvdd", "ephemeral0": "/dev/sdb", "swap": "/dev/sdcs"}
	if diff := cmp.Diff(wantDevs, devs); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/dev/sdb", "/dev/xvdd", "/dev/sdk"}, stores); diff != "" {
		t.Errorf("stores (-want +got):\n%s", diff)
	}
	wantP := []string{`block-device-mapping entry "Bad": not a mapping name`, `block-device-mapping/ephemeral1: "sd c" is not a device name`}
	if diff := cmp.Diff(wantP, problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func FuzzParseListing(f *testing.F) {
	for _, s := range []string{"ami\nebs0\nephemeral0\nroot\nswap", "network/\n", "", "..", "a\r\n/b", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		names, err := facts.ParseListing(b)
		if err != nil {
			return
		}
		for _, n := range names {
			base := strings.TrimSuffix(n, "/")
			if base == "" || base == "." || base == ".." || strings.ContainsAny(base, "/\\?#% \t\r\n") {
				t.Fatalf("ParseListing(%q) accepted %q", b, n)
			}
		}
	})
}

func FuzzParseBlockDevices(f *testing.F) {
	f.Add("ephemeral0", "sdb")
	f.Add("root", "/dev/xvda")
	f.Add("ephemeral99999999999999999999", "x")
	f.Fuzz(func(t *testing.T, name, dev string) {
		devs, stores, problems := facts.ParseBlockDevices(map[string]string{name: dev})
		if len(devs)+len(problems) != 1 {
			t.Fatalf("%q=%q: %d devices and %d problems, want exactly one of either", name, dev, len(devs), len(problems))
		}
		for _, d := range devs {
			if !strings.HasPrefix(d, "/dev/") || strings.Contains(d, "..") || strings.Count(d, "/") != 2 {
				t.Fatalf("%q=%q: device %q escapes /dev", name, dev, d)
			}
		}
		if len(stores) > len(devs) {
			t.Fatalf("more stores than devices")
		}
	})
}

func ptr(s string) *string { return &s }

// orderGetter serves the fake's metadata and records the paths asked for.
type orderGetter struct {
	src   facts.Getter
	mu    sync.Mutex
	order []string
}

func (g *orderGetter) Get(ctx context.Context, path string) ([]byte, error) {
	g.note(path)
	return g.src.Get(ctx, path)
}

func (g *orderGetter) note(s string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.order = append(g.order, s)
}

// TestListedBeforeTheValues: Listed is called once, after the listing and
// before any value is asked for, so a caller's request sent then shares the
// values' round trip.
func TestListedBeforeTheValues(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	g := &orderGetter{src: client(t, srv.URL)}
	o := opts("10.1.2.3")
	o.Listed = func() { g.note("(listed)") }
	if _, err := facts.Gather(ctxFor(t, 10*time.Second), g, o); err != nil {
		t.Fatal(err)
	}
	i := slices.Index(g.order, "(listed)")
	if i < 0 || slices.Index(g.order[i+1:], "(listed)") >= 0 {
		t.Fatalf("Listed called %d times, want once: %q", strings.Count(strings.Join(g.order, " "), "(listed)"), g.order)
	}
	if want := []string{"/latest/meta-data/block-device-mapping/"}; !slices.Equal(g.order[:i], want) {
		t.Errorf("asked before Listed: %q, want only the listing %q", g.order[:i], want)
	}
	if len(g.order[i+1:]) < 9 {
		t.Errorf("asked after Listed: %q, want every value", g.order[i+1:])
	}
}
