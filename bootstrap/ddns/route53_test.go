package ddns

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

var r53Key = awsapi.Credentials{AccessKeyID: "ASIASTEPTEST00000001", SecretAccessKey: "step/secret/0001", Token: "step-session-0001"}

// r53World is an AWS account with a zone whose records a DNS server
// serves, and the metadata service of the instance role.
type r53World struct {
	peer *awsapi.Server
	imds *aemm.Server
	dns  *authdns.Server
	zone awsapi.HostedZone
}

func newR53World(t testing.TB) *r53World {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "", "AWS_REGION": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "",
	} {
		t.Setenv(k, v)
	}
	w := &r53World{dns: authdns.New("example.test")}
	if err := w.dns.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.dns.Close() })
	w.peer = awsapi.Start(t, awsapi.Options{Backend: w.dns})
	w.peer.AddCredentials(r53Key)
	for k, v := range w.peer.Env() {
		t.Setenv(k, v)
	}
	w.imds = aemm.Start(t, aemm.Config{IMDSv2: true, Role: "ec2boot-web", RoleCredentials: aemm.RoleCredentials{
		AccessKeyID: r53Key.AccessKeyID, SecretAccessKey: r53Key.SecretAccessKey, Token: r53Key.Token, Expiration: time.Now().Add(6 * time.Hour)}})
	var err error
	if w.zone, err = w.peer.AddHostedZone("example.test", false); err != nil {
		t.Fatal(err)
	}
	return w
}

// r53Instance is one instance of the fleet.
type r53Instance struct {
	t     testing.TB
	w     *r53World
	root  hostfs.Root
	clock *clock.Fake
	facts facts.Facts
	log   bytes.Buffer
}

func (w *r53World) instance(t testing.TB, id string, launched time.Time, public netip.Addr) *r53Instance {
	return &r53Instance{t: t, w: w, root: hostfs.Root(t.TempDir()), clock: clock.NewFake(launched.Add(time.Minute)),
		facts: facts.Facts{InstanceID: id, LaunchTime: launched, LocalIPv4: localIP, PublicIPv4: public, Source: "imds"}}
}

func (in *r53Instance) env(dryRun bool) *step.Env {
	in.t.Helper()
	src := fmt.Sprintf(`[dns.accounts.aws]
provider = "route53"
zone_id = %q

[[dns.records]]
name = "web.example.test"
address = "public-ipv4"
account = "aws"

[[dns.records]]
name = "int.example.test"
address = "local-ipv4"
account = "aws"
`, in.w.zone.ID)
	cfg, ps := config.Load(config.Source{Name: "test.toml", Data: []byte(src)})
	if cfg == nil {
		in.t.Fatalf("config: %v", ps)
	}
	store, err := state.Open(in.root.Path(state.Dir), in.facts.InstanceID, dryRun)
	if err != nil {
		in.t.Fatal(err)
	}
	f := in.facts
	return &step.Env{Root: in.root, Config: cfg, Facts: &f, State: store, Log: logging.New(&in.log, logging.JSON, true),
		Clock: in.clock, DryRun: dryRun, Version: testVersion, IMDSEndpoint: in.w.imds.URL}
}

// run is one run of the step; it returns the requests it cost.
func (in *r53Instance) run() (step.Result, string) {
	in.t.Helper()
	before := in.w.peer.Counts()
	p, err := NewStep().Plan(context.Background(), in.env(false))
	if err != nil {
		in.t.Fatal(err)
	}
	res, err := p.Apply(context.Background())
	if err != nil {
		fmt.Fprintf(&in.log, "apply error: %v\n", err)
	}
	fmt.Fprintf(&in.log, "degraded: %s\n", strings.Join(res.Degraded, "; "))
	after := in.w.peer.Counts()
	d := func(k string) int { return after["route53:"+k] - before["route53:"+k] }
	return res, fmt.Sprintf("list=%d change=%d", d("ListResourceRecordSets"), d("ChangeResourceRecordSets"))
}

func (in *r53Instance) plan() string {
	in.t.Helper()
	p, err := NewStep().Plan(context.Background(), in.env(true))
	if err != nil {
		in.t.Fatal(err)
	}
	var b bytes.Buffer
	p.Describe(&b)
	return b.String()
}

func (w *r53World) lookup(t testing.TB, name string) []netip.Addr {
	t.Helper()
	a, err := w.dns.Lookup(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRoute53StepBlueGreen runs the step against Route 53 end to end: a
// first registration (one batch for both names), a run with nothing to do
// (one List per name, no change), and a blue/green hand-over where the
// newer launch takes both names and the older yields for good.
func TestRoute53StepBlueGreen(t *testing.T) {
	w := newR53World(t)
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	blue := w.instance(t, "i-0b1ue000000000001", t0, netip.MustParseAddr("203.0.113.10"))
	green := w.instance(t, "i-0green00000000002", t0.Add(time.Hour), netip.MustParseAddr("203.0.113.20"))

	plan := blue.plan()
	for _, want := range []string{"POST /2013-04-01/hostedzone/" + w.zone.ID + "/rrset", "CREATE web.example.test. 300 A 203.0.113.10",
		"CREATE int.example.test. 300 A " + localIP.String(), `CREATE _ec2boot.web.example.test. 300 TXT "heritage=ec2boot,ec2boot/instance-id=i-0b1ue000000000001,ec2boot/launch-time=2026-12-07T03:00:00Z"`} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	for _, want := range []string{"A: mismatch: the Route 53 API (zone " + w.zone.ID + ") says nothing, want 203.0.113.10",
		"owner: nobody (the Route 53 API (zone " + w.zone.ID + ") answers nothing)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, r53Key.SecretAccessKey) || strings.Contains(plan, r53Key.AccessKeyID) {
		t.Errorf("plan shows credentials:\n%s", plan)
	}
	steps := []struct {
		who      *r53Instance
		requests string
		web      string
		conflict bool
	}{
		{blue, "list=2 change=1", "203.0.113.10", false},  // first registration
		{blue, "list=2 change=0", "203.0.113.10", false},  // nothing changed
		{green, "list=2 change=1", "203.0.113.20", false}, // newer launch takes the names
		{blue, "list=2 change=0", "203.0.113.20", true},   // older yields
		{green, "list=2 change=0", "203.0.113.20", false}, // stable
		{blue, "list=2 change=0", "203.0.113.20", true},   // still yields
	}
	for i, s := range steps {
		s.who.clock.Advance(time.Hour)
		res, got := s.who.run()
		if got != s.requests {
			t.Errorf("step %d (%s): %s, want %s (changed: %v)", i, s.who.facts.InstanceID, got, s.requests, res.Changed)
		}
		if a := w.lookup(t, "web.example.test"); len(a) != 1 || a[0].String() != s.web {
			t.Errorf("step %d: DNS has web at %v, want %s", i, a, s.web)
		}
		if s.who == blue && i == 0 && !strings.Contains(strings.Join(res.Changed, " "), "registered") {
			t.Errorf("first run registered nothing: %v", res.Changed)
		}
		if yielded := strings.Contains(s.who.log.String(), "the newer launch wins, so this instance yields"); yielded != s.conflict {
			t.Errorf("step %d: yielded=%v, want %v; log:\n%s", i, yielded, s.conflict, s.who.log.String())
		}
		s.who.log.Reset()
	}
}

// TestRoute53StepDenied: a refused permission is sticky and names the
// action and resource; the next run sends nothing until --force.
func TestRoute53StepDenied(t *testing.T) {
	w := newR53World(t)
	w.peer.Inject(awsapi.Fault{Service: awsapi.Route53, Action: "ChangeResourceRecordSets", Kind: awsapi.Deny})
	in := w.instance(t, "i-0deny000000000001", time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC), publicIP)
	res, got := in.run()
	if got != "list=2 change=1" {
		t.Errorf("first run: %s", got)
	}
	_ = res
	in.clock.Advance(time.Hour)
	_, got = in.run()
	if got != "list=2 change=0" {
		t.Errorf("second run: %s, want no change request while sticky", got)
	}
	if !strings.Contains(in.log.String(), "route53:ChangeResourceRecordSets on arn:aws:route53:::hostedzone/"+w.zone.ID) {
		t.Errorf("log does not name action and resource:\n%s", in.log.String())
	}
}

// TestRoute53StepNoRefresh: Route 53 never expires a record, so a run long
// after the registration (past dns.refresh) still sends nothing.
func TestRoute53StepNoRefresh(t *testing.T) {
	w := newR53World(t)
	in := w.instance(t, "i-0f0e0000000000001", time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC), publicIP)
	if _, got := in.run(); got != "list=2 change=1" {
		t.Fatalf("first run: %s", got)
	}
	in.clock.Advance(40 * 24 * time.Hour)
	if res, got := in.run(); got != "list=2 change=0" || len(res.Changed) != 0 {
		t.Errorf("40 days later: %s, changed %v", got, res.Changed)
	}
}
