package peers

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	fleetnames "github.com/ec2boot/ec2boot/bootstrap/names"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

var roleKey = awsapi.Credentials{AccessKeyID: "AKIAROLEPEERS0000001", SecretAccessKey: "role/secret/peers/0001", Token: "role-token-0001"}

// fleet is an EC2 API peer with an inventory, and this instance's own
// metadata emulator handing out the instance role's credentials, which
// the peer alone accepts: the SDK's default chain must find them there.
type fleet struct {
	api  *awsapi.Server
	imds *aemm.Server
}

func startFleet(t *testing.T, inv []awsapi.Instance) *fleet {
	t.Helper()
	dir := t.TempDir()
	// Keep the SDK's default chain away from this machine's own files,
	// variables and metadata service.
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "", "AWS_REGION": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	} {
		t.Setenv(k, v)
	}
	api := awsapi.Start(t, awsapi.Options{})
	api.AddCredentials(roleKey)
	for k, v := range api.Env() {
		t.Setenv(k, v)
	}
	if err := api.SetInstances(inv); err != nil {
		t.Fatal(err)
	}
	self := inv[0]
	self.Role, self.Credentials, self.Expiration = "peers-role", roleKey, time.Now().Add(time.Hour)
	self.Tags = self.Tags[:min(2, len(self.Tags))] // the emulator's two tag slots; the API has them all
	c, err := self.AEMMConfig("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return &fleet{api: api, imds: aemm.Start(t, c)}
}

func inst(n int, tags ...string) awsapi.Instance {
	in := awsapi.Instance{ID: fmt.Sprintf("i-%017x", n), PrivateIP: netip.AddrFrom4([4]byte{10, 0, 1, byte(n)})}
	for i := 0; i+1 < len(tags); i += 2 {
		in.Tags = append(in.Tags, awsapi.Tag{Key: tags[i], Value: tags[i+1]})
	}
	return in
}

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestEC2Source(t *testing.T) {
	web1 := inst(1, "Role", "web", "Name", "web-a")
	web1.PublicIP = netip.MustParseAddr("203.0.113.1")
	web1.IPv6 = []netip.Addr{netip.MustParseAddr("2001:db8::1")}
	inv := []awsapi.Instance{web1, inst(2, "Role", "web", "aws:autoscaling:groupName", "asg-b"), inst(3, "Role", "db")}
	stopped := inst(4, "Role", "web")
	stopped.State = "stopped"
	inv = append(inv, stopped)
	for i := 5; i < 17; i++ { // more than two pages of 5
		inv = append(inv, inst(i, "Role", "web", "aws:autoscaling:groupName", "asg-a"))
	}
	f := startFleet(t, inv)
	client, err := NewEC2Client(ctxT(t), "us-east-1", f.imds.URL)
	if err != nil {
		t.Fatal(err)
	}
	nameTmpl, err := fleetnames.Parse("{{ .Tags.Name }}.internal.example.com")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		d     config.Discover
		asg   string
		tmpl  *fleetnames.Template
		want  []string // name=addrs/instance-id
		pages int
	}{
		{"tag, private addresses, private DNS names", config.Discover{Source: "ec2", Tag: map[string]string{"Role": "db"}}, "", nil,
			[]string{"ip-10-0-1-3.ec2.internal=10.0.1.3/i-00000000000000003"}, 1},
		{"same group only", config.Discover{Source: "ec2", Tag: map[string]string{"Role": "web"}, SameASG: true}, "asg-b", nil,
			[]string{"ip-10-0-1-2.ec2.internal=10.0.1.2/i-00000000000000002"}, 1},
		{"every address kind, a name from a tag", config.Discover{Source: "ec2", Tag: map[string]string{"Role": "web", "Name": "web-a"}, Address: "private-ipv4+public-ipv4+ipv6"}, "", nameTmpl,
			[]string{"web-a.internal.example.com=10.0.1.1, 203.0.113.1, 2001:db8::1/i-00000000000000001"}, 1},
		{"no match is an empty answer", config.Discover{Source: "ec2", Tag: map[string]string{"Role": "nothing"}}, "", nil, nil, 1},
	}
	// The big group: 12 running members over three pages, the stopped one left out.
	var big []string
	for i := 5; i < 17; i++ {
		big = append(big, fmt.Sprintf("ip-10-0-1-%d.ec2.internal=10.0.1.%d/i-%017x", i, i, i))
	}
	slices.Sort(big) // members come sorted by name
	tests = append(tests, struct {
		name  string
		d     config.Discover
		asg   string
		tmpl  *fleetnames.Template
		want  []string
		pages int
	}{"paged", config.Discover{Source: "ec2", Tag: map[string]string{"Role": "web"}, SameASG: true}, "asg-a", nil, big, 3})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			filters, err := EC2Filters(tc.d, tc.asg)
			if err != nil {
				t.Fatal(err)
			}
			before := f.api.Count(awsapi.EC2, "DescribeInstances")
			src := EC2{Describe: client.DescribeInstances, Filters: filters, Addresses: tc.d.AddressKinds(), Name: tc.tmpl, Region: "us-east-1", Timeout: 10 * time.Second, PageSize: 5}
			ms, err := src.Members(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Name+"="+joinAddrs(m.Addrs)+"/"+m.InstanceID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if n := f.api.Count(awsapi.EC2, "DescribeInstances") - before; n != tc.pages {
				t.Errorf("%d DescribeInstances calls, want %d", n, tc.pages)
			}
		})
	}
}

func TestEC2FiltersNeedTheGroupTag(t *testing.T) {
	_, err := EC2Filters(config.Discover{Source: "ec2", SameASG: true}, "")
	if err == nil || !strings.Contains(err.Error(), "aws:autoscaling:groupName") {
		t.Fatalf("got %v, want an error naming the group tag", err)
	}
}

// ec2Input is a resolution of one ec2 role, web, by tag, through the real
// client (Resolve makes it from the facts).
func ec2Input(f *fleet, store *state.Store, clk clock.Clock) Input {
	cfg := config.Default()
	cfg.Peers.Discover = map[string]config.Discover{"web": {Source: "ec2", Tag: map[string]string{"Role": "web"}}}
	fa := &facts.Facts{InstanceID: "i-00000000000000001", Region: "us-east-1", LocalIPv4: netip.MustParseAddr("10.0.1.1"),
		MetadataEndpoint: f.imds.URL}
	return Input{Config: cfg, Facts: fa, State: store, Clock: clk}
}

func openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(t.TempDir(), "i-00000000000000001", false)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func roleNames(hs []Host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name+"/"+string(h.Source))
	}
	return out
}

// TestEC2Faults: an API that is down, throttled or denies access leaves
// the role at its last known members, with their age, and says why; a
// denial is not asked again until the configuration changes or --force;
// an empty answer is refused by the shrink guard.
func TestEC2Faults(t *testing.T) {
	inv := []awsapi.Instance{inst(1, "Role", "web"), inst(2, "Role", "web"), inst(3, "Role", "web")}
	known := []string{"ip-10-0-1-1.ec2.internal/ec2", "ip-10-0-1-2.ec2.internal/ec2", "ip-10-0-1-3.ec2.internal/ec2"}
	stale := []string{"ip-10-0-1-1.ec2.internal/stale", "ip-10-0-1-2.ec2.internal/stale", "ip-10-0-1-3.ec2.internal/stale"}
	tests := []struct {
		name     string
		fault    func(f *fleet)
		want     []string
		problem  string // in Degraded
		refused  string // in Refused
		sticky   bool   // the next run sends nothing
		forceOut []string
	}{
		{"down", func(f *fleet) { f.api.Inject(awsapi.Fault{Service: awsapi.EC2, Kind: awsapi.ServerError}) }, stale, "InternalError", "", false, nil},
		{"throttled", func(f *fleet) { f.api.Inject(awsapi.Fault{Service: awsapi.EC2, Kind: awsapi.Throttle}) }, stale, "throttled (RequestLimitExceeded)", "", false, nil},
		{"denied", func(f *fleet) { f.api.Inject(awsapi.Fault{Service: awsapi.EC2, Kind: awsapi.Deny}) }, stale, "ec2:DescribeInstances denied: UnauthorizedOperation", "", true, known},
		{"empty answer", func(f *fleet) { _ = f.api.SetInstances([]awsapi.Instance{inst(1, "Role", "db")}) }, nil, "", "role web would be empty", false, nil},
		{"unreachable", func(f *fleet) { _ = f.api.Close() }, stale, "connect: connection refused", "", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFleet(t, inv)
			store := openStore(t)
			clk := clock.NewFake(t0)
			set, err := Resolve(ctxT(t), ec2Input(f, store, clk))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(known, roleNames(set.Roles["web"])); diff != "" || len(set.Degraded()) > 0 {
				t.Fatalf("first run (-want +got):\n%s%v", diff, set.Degraded())
			}
			if err := set.Remember(store); err != nil {
				t.Fatal(err)
			}

			tc.fault(f)
			clk.Advance(10 * time.Minute)
			set, err = Resolve(ctxT(t), ec2Input(f, store, clk))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, roleNames(set.Roles["web"])); diff != "" {
				t.Errorf("after the fault (-want +got):\n%s", diff)
			}
			deg := strings.Join(set.Degraded(), "\n")
			if tc.problem != "" && (!strings.Contains(deg, tc.problem) || !strings.Contains(deg, "kept at its 3 last known members, not answering for under a minute")) {
				t.Errorf("degraded says %q, want %q and the age", deg, tc.problem)
			}
			if got := fmt.Sprint(set.Refused()); !strings.Contains(got, tc.refused) || (tc.refused == "") != (set.Refused() == nil) {
				t.Errorf("refused: %v, want %q", set.Refused(), tc.refused)
			}
			if err := set.Remember(store); err != nil {
				t.Fatal(err)
			}

			// The next run, ten minutes on: the age grows; a denial sends nothing.
			clk.Advance(10 * time.Minute)
			before := f.api.Count(awsapi.EC2, "DescribeInstances")
			set, err = Resolve(ctxT(t), ec2Input(f, store, clk))
			if err != nil {
				t.Fatal(err)
			}
			sent := f.api.Count(awsapi.EC2, "DescribeInstances") - before
			// (A closed endpoint counts nothing: it is asked, and refuses.)
			if tc.sticky != (sent == 0) && tc.name != "unreachable" {
				t.Errorf("second run after the fault sent %d requests; sticky=%v", sent, tc.sticky)
			}
			if tc.problem != "" && !strings.Contains(strings.Join(set.Degraded(), "\n"), "not answering for 10m") {
				t.Errorf("the age did not grow: %v", set.Degraded())
			}
			if tc.sticky {
				if !strings.Contains(strings.Join(set.Degraded(), "\n"), "until peers.discover.web changes or run --force") {
					t.Errorf("a remembered denial does not say how to clear it: %v", set.Degraded())
				}
				if err := set.Remember(store); err != nil {
					t.Fatal(err)
				}
				f.api.ClearFaults()
				in := ec2Input(f, store, clk)
				in.Force = true
				set, err = Resolve(ctxT(t), in)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.forceOut, roleNames(set.Roles["web"])); diff != "" || len(set.Degraded()) > 0 {
					t.Errorf("--force (-want +got):\n%s%v", diff, set.Degraded())
				}
			}
		})
	}
}
