package facts_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/netns"
)

// The instance the emulator plays in these tests.
var emulated = aemm.Config{
	IMDSv2: true,
	Values: map[string]string{
		"instance-id":                 "i-0aaaaaaaaaaaaaaa1",
		"local-ipv4":                  "10.200.0.1",
		"public-ipv4":                 "203.0.113.10",
		"instance-type":               "t3.micro",
		"local-hostname":              "ip-10-200-0-1.eu-west-1.compute.internal",
		"hostname":                    "ip-10-200-0-1.eu-west-1.compute.internal",
		"placement-availability-zone": "eu-west-1b",
		"placement-region":            "eu-west-1",
	},
	UserData: []byte("[imds]\ntimeout = \"30s\"\n"),
}

// What Gather must make of it: the values above and the emulator's own
// defaults for the rest.
func emulatedFacts() *facts.Facts {
	return &facts.Facts{
		InstanceID:       "i-0aaaaaaaaaaaaaaa1",
		ImageID:          "ami-0a887e401f7654935",
		InstanceType:     "t3.micro",
		Region:           "eu-west-1",
		AvailabilityZone: "eu-west-1b",
		LocalIPv4:        netip.MustParseAddr("10.200.0.1"),
		PublicIPv4:       netip.MustParseAddr("203.0.113.10"),
		IPv6:             netip.MustParseAddr("2001:db8:8:4::2"),
		LocalHostname:    "ip-10-200-0-1.eu-west-1.compute.internal",
		PublicHostname:   "ec2-192-0-2-54.compute-1.amazonaws.com",
		MAC:              "0e:49:61:0f:c3:11",
		BlockDevices: map[string]string{"ami": "/dev/xvda", "ebs0": "/dev/sdb", "ephemeral0": "/dev/sdb",
			"root": "/dev/xvda", "swap": "/dev/sdcs"},
		InstanceStores: []string{"/dev/sdb"},
		LaunchIndex:    intp(0),
		LifeCycle:      "on-demand",
		// The emulator's own trap: without its asglifecycle command the
		// target state is Terminated from the start.
		TargetLifecycleState: "Terminated",
		LaunchTime:           time.Date(2019, 10, 31, 7, 2, 24, 0, time.UTC),
		Tags:                 map[string]string{"Name": "test-instance", "Test": "test-tag"},
		TagsAvailable:        true,
		GatheredAt:           t0,
		Source:               facts.SourceIMDS,
	}
}

// Against AWS's emulator in IMDSv2-only mode on loopback. It crashes on
// parallel token or listing requests; the cleanup fails the test if it
// died, so this also proves Gather sends neither.
func TestGatherEmulator(t *testing.T) {
	srv := aemm.Start(t, emulated)
	c := client(t, srv.URL)
	got, err := facts.Gather(ctxFor(t, 10*time.Second), c, opts("10.200.0.1"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if diff := cmp.Diff(emulatedFacts(), got, addrEq); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if n := c.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

// Once on the real address: 169.254.169.254:80 inside a network namespace
// this test creates, the client left on its built-in default endpoint, the
// EC2 signature given through the root, the cross-check and the fallback
// reading the namespace's real interfaces through netlink.
func TestDefaultEndpointInNetNS(t *testing.T) {
	if !netns.Reexec(t,
		[]string{"addr", "add", "169.254.169.254/32", "dev", "lo"},
		[]string{"link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"},
		[]string{"addr", "add", "10.200.0.1/24", "dev", "eth0"},
		[]string{"link", "set", "eth0p", "up"},
		[]string{"link", "set", "eth0", "up"},
		[]string{"route", "add", "default", "via", "10.200.0.254", "dev", "eth0"},
	) {
		return
	}
	cfg := emulated
	cfg.Host, cfg.Port = "169.254.169.254", 80
	srv := aemm.Start(t, cfg)

	root := t.TempDir()
	writeDMI(t, root, "Amazon EC2", "i-0aaaaaaaaaaaaaaa1")
	stateDir := t.TempDir()
	newMD := func(cache bool) *facts.Metadata {
		o := facts.MetadataOptions{Root: hostfs.Root(root)} // no endpoint, no environment
		if cache {
			o.Cache = openStore(t, stateDir, "")
		}
		md, err := facts.NewMetadata(o)
		if err != nil {
			t.Fatal(err)
		}
		return md
	}
	imdsCfg := config.IMDS{}
	imdsCfg.Timeout.Duration = time.Second

	md := newMD(false)
	got, err := md.Facts(ctxFor(t, 10*time.Second), imdsCfg)
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	if ep := md.Client().Endpoint(); ep != imds.DefaultEndpointIPv4 {
		t.Errorf("endpoint %s, want the default", ep)
	}
	want := emulatedFacts()
	want.MetadataEndpoint = imds.DefaultEndpointIPv4 // for the SDK's instance-role credentials
	if diff := cmp.Diff(want, got, addrEq, cmpopts.IgnoreFields(facts.Facts{}, "GatheredAt")); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	ud, err := md.UserData(ctxFor(t, 5*time.Second))
	if err != nil || string(ud) != string(emulated.UserData) {
		t.Errorf("UserData = %q, %v", ud, err)
	}

	// Cache facts whose local-ipv4 is stale, stop the service, and fall
	// back: the address must come from eth0, the default-route interface.
	stale := *got
	stale.LocalIPv4 = netip.MustParseAddr("10.9.9.9")
	if err := facts.SaveCached(openStore(t, stateDir, stale.InstanceID), &stale, t0); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	fb, err := newMD(true).Facts(ctxFor(t, 10*time.Second), imdsCfg)
	if err != nil {
		t.Fatalf("Facts with the service gone: %v", err)
	}
	if fb.Source != facts.SourceCache || fb.InstanceID != "i-0aaaaaaaaaaaaaaa1" || fb.LocalIPv4 != netip.MustParseAddr("10.200.0.1") {
		t.Errorf("fallback: %s %s from %s", fb.InstanceID, fb.LocalIPv4, fb.Source)
	}
	if !slicesContains(fb.Warnings, "cached local-ipv4 10.9.9.9 is on no interface; using 10.200.0.1 from eth0") {
		t.Errorf("warnings %q", fb.Warnings)
	}
	if !strings.Contains(fb.Degraded, "169.254.169.254") {
		t.Errorf("Degraded %q does not name the endpoint", fb.Degraded)
	}
}
