package route53

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

const zoneName = "fleet.example.test"

var roleKey = awsapi.Credentials{AccessKeyID: "ASIAROLETEST00000001", SecretAccessKey: "role/secret/0001", Token: "role-session-0001"}

// world is the account: the Route 53 peer, and the metadata emulator that
// hands out the instance role's credentials the peer insists on.
type world struct {
	peer *awsapi.Server
	imds *aemm.Server
	zone awsapi.HostedZone
}

// isolate keeps the SDK's default chain off the machine's own files,
// variables and metadata service: credentials can only come from the
// emulator.
func isolate(t testing.TB) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "", "AWS_REGION": "eu-west-1",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
	} {
		t.Setenv(k, v)
	}
}

func newWorld(t testing.TB, opt awsapi.Options) *world {
	t.Helper()
	isolate(t)
	w := &world{peer: awsapi.Start(t, opt)}
	w.peer.AddCredentials(roleKey)
	for k, v := range w.peer.Env() {
		t.Setenv(k, v)
	}
	w.imds = aemm.Start(t, aemm.Config{IMDSv2: true, Role: "ec2boot-test", RoleCredentials: aemm.RoleCredentials{
		AccessKeyID: roleKey.AccessKeyID, SecretAccessKey: roleKey.SecretAccessKey, Token: roleKey.Token,
		Expiration: time.Now().Add(6 * time.Hour)}})
	z, err := w.peer.AddHostedZone(zoneName, false)
	if err != nil {
		t.Fatal(err)
	}
	w.zone = z
	return w
}

var me = Owner{InstanceID: "i-0bbbbbbbbbbbbbbb2", LaunchTime: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}

// client is one run's client, made the way the product makes it.
func (w *world) client(t testing.TB, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{ZoneID: w.zone.ID, IMDSEndpoint: w.imds.URL, Me: me}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(ctx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// other is another writer with the same account (a human, a second
// instance) using the SDK directly.
func (w *world) other(t testing.TB) *r53.Client {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(ctx(t), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithEC2IMDSEndpoint(w.imds.URL))
	if err != nil {
		t.Fatal(err)
	}
	return r53.NewFromConfig(cfg, func(o *r53.Options) { o.Retryer = aws.NopRetryer{} })
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// records is the zone without its SOA and NS, one line per set.
func (w *world) records() []string {
	var out []string
	for _, r := range w.peer.Records(w.zone.ID) {
		if r.Type == "SOA" || r.Type == "NS" {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s %d %s", r.Name, r.Type, r.TTL, strings.Join(r.Values, " ")))
	}
	return out
}

func (w *world) counts() string {
	return fmt.Sprintf("list=%d change=%d zones=%d", w.peer.Count(awsapi.Route53, "ListResourceRecordSets"),
		w.peer.Count(awsapi.Route53, "ChangeResourceRecordSets"), w.peer.Count(awsapi.Route53, "ListHostedZonesByName"))
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

const web = "web." + zoneName

var ownerTXT = `"heritage=ec2boot,ec2boot/instance-id=i-0bbbbbbbbbbbbbbb2,ec2boot/launch-time=2026-12-07T04:00:00Z"`

// TestCreateChangeNoChange: a new name is CREATEd with its ownership
// record; a moved address is a DELETE of exactly what was read plus a
// CREATE; an unchanged name costs one List and no change.
func TestCreateChangeNoChange(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	owned := &Owned{Prev: map[string]*Owner{}}

	c := w.client(t, nil)
	if got := c.Describe(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}}}, owned); !strings.Contains(got, "CREATE web.fleet.example.test. 300 A 192.0.2.1") ||
		!strings.Contains(got, "CREATE _ec2boot.web.fleet.example.test. 300 TXT "+ownerTXT) || strings.Contains(got, "DELETE") || strings.Contains(got, roleKey.SecretAccessKey) {
		t.Errorf("plan of a new name:\n%s", got)
	}
	res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}}}, owned)
	if res[0].Class != Success {
		t.Fatalf("create: %+v", res)
	}
	want := []string{
		"web.fleet.example.test. A 300 192.0.2.1",
		"web.fleet.example.test. AAAA 300 2001:db8::1",
		"_ec2boot.web.fleet.example.test. TXT 300 " + ownerTXT,
	}
	if d := cmp.Diff(want, w.records()); d != "" {
		t.Errorf("after create (-want +got):\n%s", d)
	}
	if got := w.counts(); got != "list=1 change=1 zones=0" {
		t.Errorf("create run: %s", got)
	}

	// Next run, nothing changed: one List, no change.
	c = w.client(t, nil)
	s, err := c.Read(ctx(t), web)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := s.OwnerOf()
	owned = &Owned{Prev: map[string]*Owner{web + ".": &o}}
	if got := c.Describe(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}}}, owned); got != "route53: nothing to change" {
		t.Errorf("no-change plan: %s", got)
	}
	if res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}}}, owned); res[0].Class != Success {
		t.Errorf("no-change send: %+v", res)
	}
	if got := w.counts(); got != "list=2 change=1 zones=0" {
		t.Errorf("no-change run: %s, want one more List and no change", got)
	}

	// Next run, the IPv4 address moved: compare-and-swap of A and owner.
	c = w.client(t, nil)
	if got := c.Describe(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.2"), addr("2001:db8::1")}}}, owned); !strings.Contains(got, "DELETE web.fleet.example.test. 300 A 192.0.2.1\n  CREATE web.fleet.example.test. 300 A 192.0.2.2") {
		t.Errorf("plan of a move:\n%s", got)
	}
	if res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.2"), addr("2001:db8::1")}}}, owned); res[0].Class != Success {
		t.Fatalf("move: %+v", res)
	}
	want[0] = "web.fleet.example.test. A 300 192.0.2.2"
	if d := cmp.Diff(want, w.records()); d != "" {
		t.Errorf("after move (-want +got):\n%s", d)
	}
}

// TestLostRace: another writer changes the name between our read and our
// change: Route 53 refuses the batch, nothing of theirs is overwritten,
// and the next run reads their value.
func TestLostRace(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	other := w.other(t)
	if _, err := other.ChangeResourceRecordSets(ctx(t), &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(w.zone.ID),
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: addrSet(web+".", types.RRTypeA, 300, []netip.Addr{addr("192.0.2.7")})}}}}); err != nil {
		t.Fatal(err)
	}
	for i, owned := range []*Owned{nil, {Prev: map[string]*Owner{}}} {
		theirAddr := addr(fmt.Sprintf("192.0.2.%d", 8+i))
		c := w.client(t, nil)
		if _, err := c.Read(ctx(t), web); err != nil {
			t.Fatal(err)
		}
		// The other writer moves the name after our read.
		before := w.records()
		_, err := other.ChangeResourceRecordSets(ctx(t), &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(w.zone.ID),
			ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionUpsert, ResourceRecordSet: addrSet(web+".", types.RRTypeA, 300, []netip.Addr{theirAddr})}}}})
		if err != nil {
			t.Fatal(err)
		}
		theirs := w.records()
		res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, owned)
		wantCode := "changed-elsewhere"
		if owned != nil {
			wantCode = "owner-changed"
		}
		if res[0].Class != Failed || res[0].Code != wantCode || !strings.Contains(res[0].Detail, "InvalidChangeBatch") {
			t.Errorf("lost race: %+v", res[0])
		}
		if d := cmp.Diff(theirs, w.records()); d != "" || cmp.Equal(before, theirs) {
			t.Errorf("the other writer's record was touched (-theirs +now):\n%s", d)
		}
		// The same client reads again after a refused batch.
		s, err := c.Read(ctx(t), web)
		if err != nil || Addrs(s.A)[0] != theirAddr {
			t.Errorf("re-read after the lost race: %v %v", s, err)
		}
	}
}

// TestOwnerAppearedSinceDecision: the caller decided on "no owner", but an
// ec2boot owner is there: nothing is sent.
func TestOwnerAppearedSinceDecision(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	first := w.client(t, nil)
	if res := first.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, &Owned{}); res[0].Class != Success {
		t.Fatal(res)
	}
	n := w.peer.Count(awsapi.Route53, "ChangeResourceRecordSets")
	second := w.client(t, func(c *Config) {
		c.Me = Owner{InstanceID: "i-0ccccccccccccccc3", LaunchTime: me.LaunchTime.Add(time.Hour)}
	})
	res := second.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.9")}}}, &Owned{Prev: map[string]*Owner{}})
	if res[0].Code != "owner-changed" || w.peer.Count(awsapi.Route53, "ChangeResourceRecordSets") != n {
		t.Errorf("%+v, %s", res[0], w.counts())
	}
}

// TestFaults: throttling within the retries, past them, denial, a wrong
// zone and a reply that does not parse.
func TestFaults(t *testing.T) {
	cases := []struct {
		name      string
		faults    []awsapi.Fault
		zoneID    string
		class     Class
		code      string
		detail    []string
		attempts  int // change requests that reached the peer
		wantWrite bool
	}{
		{"throttled twice, then accepted", []awsapi.Fault{{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.Throttle, Times: 2}},
			"", Success, "INSYNC", nil, 3, true},
		{"prior request not complete, then accepted", []awsapi.Fault{{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.PriorRequest, Times: 1}},
			"", Success, "INSYNC", nil, 2, true},
		{"throttled through every attempt", []awsapi.Fault{{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.Throttle}},
			"", HoldOff, "Throttling", []string{"Rate exceeded", "3 attempts"}, MaxAttempts, false},
		{"change denied", []awsapi.Fault{{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.Deny}},
			"", Sticky, "AccessDenied", []string{"may not perform route53:ChangeResourceRecordSets on arn:aws:route53:::hostedzone/"}, 1, false},
		{"list denied", []awsapi.Fault{{Service: awsapi.Route53, Action: "ListResourceRecordSets", Kind: awsapi.Deny}},
			"", Sticky, "AccessDenied", []string{"may not perform route53:ListResourceRecordSets on arn:aws:route53:::hostedzone/"}, 0, false},
		{"wrong zone", nil, "ZNOSUCHZONE0001", Sticky, "NoSuchHostedZone", []string{"ZNOSUCHZONE0001"}, 0, false},
		{"reply does not parse", []awsapi.Fault{{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.Malformed}},
			"", Failed, "unparsable reply", nil, 1, false},
		{"server fault through every attempt", []awsapi.Fault{{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.ServerError}},
			"", Failed, "InternalFailure", nil, MaxAttempts, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, awsapi.Options{})
			for _, f := range tc.faults {
				w.peer.Inject(f)
			}
			c := w.client(t, func(c *Config) {
				if tc.zoneID != "" {
					c.ZoneID = tc.zoneID
				}
			})
			res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil)
			r := res[0]
			if r.Class != tc.class || r.Code != tc.code {
				t.Errorf("got %v %q (%s), want %v %q", r.Class, r.Code, r.Detail, tc.class, tc.code)
			}
			for _, d := range tc.detail {
				if !strings.Contains(r.Detail, d) {
					t.Errorf("detail %q lacks %q", r.Detail, d)
				}
			}
			if strings.Contains(r.Detail, roleKey.SecretAccessKey) || strings.Contains(r.Detail, roleKey.Token) {
				t.Errorf("detail shows credentials: %s", r.Detail)
			}
			if n := w.peer.Count(awsapi.Route53, "ChangeResourceRecordSets"); n != tc.attempts {
				t.Errorf("%d change requests, want %d", n, tc.attempts)
			}
			if got := len(w.records()) > 0; got != tc.wantWrite {
				t.Errorf("records %v, want written=%v", w.records(), tc.wantWrite)
			}
		})
	}
}

// TestZoneByName: a zone found by name, the private one chosen over a
// public one of the same name only when asked.
func TestZoneByName(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	priv, err := w.peer.AddHostedZone(zoneName, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.peer.AddHostedZone("example.test", false); err != nil { // a parent: not an exact match
		t.Fatal(err)
	}
	yes, no := true, false
	cases := []struct {
		name    string
		zone    string
		private *bool
		want    string // zone ID, or an error substring
	}{
		{"both exist, no choice", zoneName, nil, "set private = true or false"},
		{"private", zoneName, &yes, priv.ID},
		{"public", zoneName + ".", &no, w.zone.ID},
		{"no such name", "other.example.test", nil, "no hosted zone named other.example.test."},
		{"no private of that name", "example.test", &yes, "no private hosted zone named example.test."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := w.client(t, func(c *Config) { c.ZoneID, c.Zone, c.Private = "", tc.zone, tc.private })
			got, err := c.Zone(ctx(t))
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if err != nil {
				if r := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil); r[0].Class != Sticky || r[0].Code != "zone" {
					t.Errorf("send with no zone: %+v", r[0])
				}
			}
		})
	}
	if n := w.peer.Count(awsapi.Route53, "ListHostedZonesByName"); n != len(cases) {
		t.Errorf("%d zone lookups, want one per run (%d)", n, len(cases))
	}
}

// TestWaitInsync: with wait, the run polls GetChange until INSYNC.
func TestWaitInsync(t *testing.T) {
	w := newWorld(t, awsapi.Options{ChangeDelay: 3 * time.Second})
	c := w.client(t, func(c *Config) { c.Wait = true })
	res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil)
	if res[0].Code != "INSYNC" || w.peer.Count(awsapi.Route53, "GetChange") == 0 {
		t.Errorf("%+v, %d GetChange", res[0], w.peer.Count(awsapi.Route53, "GetChange"))
	}
	c = w.client(t, nil)
	res = c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.2")}}}, nil)
	if res[0].Code != "PENDING" {
		t.Errorf("without wait: %+v", res[0])
	}
}

// TestDescribeAsksNothing: a plan renders the batch from the run's read;
// with nothing read yet it sends no request (its context is done), and
// the client still works for the run afterwards.
func TestDescribeAsksNothing(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	c := w.client(t, nil)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	got := c.Describe(done, []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil)
	if !strings.Contains(got, "no change batch") || len(w.peer.Counts()) != 0 {
		t.Errorf("describe without a read: %q, %v", got, w.peer.Counts())
	}
	if res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil); res[0].Class != Success {
		t.Errorf("send after describe: %+v", res[0])
	}
}

// TestCallTimeout: a peer that holds the request past the account's
// timeout fails that call, within the timeout, as a timeout.
func TestCallTimeout(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	w.peer.Inject(awsapi.Fault{Service: awsapi.Route53, Action: "ListResourceRecordSets", Kind: awsapi.Delay, Delay: 5 * time.Second})
	c := w.client(t, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	start := time.Now()
	res := c.Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil)
	if res[0].Class != Failed || res[0].Code != "timeout" {
		t.Errorf("%+v", res[0])
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %s with a 300ms timeout", el)
	}
}

// TestTTLChange: a send with a new TTL swaps the sets even though the
// addresses are the same.
func TestTTLChange(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	if res := w.client(t, nil).Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil); res[0].Class != Success {
		t.Fatal(res)
	}
	if res := w.client(t, func(c *Config) { c.TTL = 60 }).Send(ctx(t), []Change{{Name: web, Addrs: []netip.Addr{addr("192.0.2.1")}}}, nil); res[0].Class != Success {
		t.Fatal(res)
	}
	if d := cmp.Diff([]string{"web.fleet.example.test. A 60 192.0.2.1"}, w.records()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
