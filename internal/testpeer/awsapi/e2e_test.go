package awsapi

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/google/go-cmp/cmp"
)

// TestInstanceRoleEndToEnd is the whole chain a booting instance runs:
// the SDK's default chain finds no keys, asks the metadata emulator (set
// up from the same inventory entry the peer lists) for the instance
// role's credentials and the region, signs with them, and the peer
// accepts exactly those keys.
func TestInstanceRoleEndToEnd(t *testing.T) {
	inst := Instance{
		ID: "i-0aaaaaaaaaaaaaaa1", PrivateIP: netip.MustParseAddr("10.200.0.1"), PublicIP: netip.MustParseAddr("203.0.113.10"),
		AvailabilityZone: "eu-west-1b", AMILaunchIndex: 2, LaunchTime: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		Tags: []Tag{{"Name", "node-1"}, {"aws:autoscaling:groupName", "fleet-asg"}},
		Role: "fleet-role", Credentials: Credentials{"ASIAFLEETROLE0000001", "role/secret/0001", "role-session-token"},
		Expiration: time.Now().Add(2 * time.Hour),
	}
	cfgAEMM, err := inst.AEMMConfig("eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	md := aemm.Start(t, cfgAEMM)

	s := Start(t, Options{EC2Region: "eu-west-1"})
	s.AddCredentials(inst.Credentials)
	if err := s.SetInstances([]Instance{inst}); err != nil {
		t.Fatal(err)
	}
	isolate(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", md.URL)
	t.Setenv("AWS_ENDPOINT_URL", s.URL) // both services through the global variable
	cfg, err := config.LoadDefaultConfig(ctx(t), config.WithEC2IMDSRegion())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region from the metadata: %q", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if creds.Source != "EC2RoleProvider" || creds.AccessKeyID != inst.Credentials.AccessKeyID || creds.SessionToken != inst.Credentials.Token {
		t.Errorf("credentials from %s: %s / %q", creds.Source, creds.AccessKeyID, creds.SessionToken)
	}

	out, err := ec2.NewFromConfig(cfg, noRetryEC2).DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeInstances signed with the role's credentials: %v", err)
	}
	if got := ids(out); len(got) != 1 || got[0] != inst.ID {
		t.Errorf("instances %v", got)
	}
	// Route 53 signs for us-east-1 whatever the instance's region.
	_, err = route53.NewFromConfig(cfg, noRetry53, func(o *route53.Options) { o.Region = "us-east-1" }).
		ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{})
	if err != nil {
		t.Fatalf("ListHostedZonesByName signed with the role's credentials: %v", err)
	}

	// What the instance reads about itself agrees with the inventory.
	mc := imds.NewFromConfig(cfg)
	got := map[string]string{}
	for _, p := range []string{"instance-id", "local-ipv4", "public-ipv4", "ami-launch-index", "placement/availability-zone", "tags/instance", "tags/instance/aws:autoscaling:groupName"} {
		o, err := mc.GetMetadata(ctx(t), &imds.GetMetadataInput{Path: p})
		if err != nil {
			t.Fatalf("metadata %s: %v", p, err)
		}
		b, _ := io.ReadAll(o.Content)
		got[p] = strings.TrimSpace(string(b))
	}
	doc, err := mc.GetInstanceIdentityDocument(ctx(t), &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatal(err)
	}
	got["pendingTime"] = doc.PendingTime.UTC().Format(time.RFC3339)
	got["document"] = doc.InstanceID + " " + doc.PrivateIP + " " + doc.AvailabilityZone + " " + doc.Region
	want := map[string]string{
		"instance-id": inst.ID, "local-ipv4": "10.200.0.1", "public-ipv4": "203.0.113.10", "ami-launch-index": "2",
		"placement/availability-zone": "eu-west-1b", "tags/instance": "Name\naws:autoscaling:groupName",
		"tags/instance/aws:autoscaling:groupName": "fleet-asg", "pendingTime": "2026-11-30T12:00:00Z",
		"document": "i-0aaaaaaaaaaaaaaa1 10.200.0.1 eu-west-1b eu-west-1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("metadata (-want +got):\n%s", d)
	}
	if n := s.Count(EC2, "DescribeInstances") + s.Count(Route53, "ListHostedZonesByName"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
