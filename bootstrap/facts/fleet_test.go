package facts_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/names"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/fakeimds"
)

// fleetMetadata is an Auto Scaling instance with instance metadata tags.
func fleetMetadata() map[string]string {
	md := fakeimds.Metadata()
	for k, v := range map[string]string{
		"meta-data/ami-launch-index":                        "3",
		"meta-data/instance-life-cycle":                     "spot",
		"meta-data/autoscaling/target-lifecycle-state":      "InService",
		"meta-data/tags/instance/Name":                      "web-3",
		"meta-data/tags/instance/aws:autoscaling:groupName": "web-asg",
		"meta-data/tags/instance/Team":                      "Payments & Risk",
		"dynamic/instance-identity/document":                `{"instanceId":"i-0123456789abcdef0","pendingTime":"2026-11-27T02:58:41Z"}`,
	} {
		md["/latest/"+k] = v
	}
	return md
}

func TestGatherFleetFacts(t *testing.T) {
	srv := fakeimds.New(t, fleetMetadata())
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	want := fullFacts()
	want.LaunchIndex, want.LifeCycle, want.TargetLifecycleState = intp(3), "spot", "InService"
	want.LaunchTime = time.Date(2026, 11, 27, 2, 58, 41, 0, time.UTC)
	want.Tags = map[string]string{"Name": "web-3", "aws:autoscaling:groupName": "web-asg", "Team": "Payments & Risk"}
	want.TagsAvailable = true
	if diff := cmp.Diff(want, got, addrEq); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	// Each tag value is asked for once, on the one token.
	for _, k := range []string{"Name", "aws:autoscaling:groupName", "Team"} {
		if n := srv.Count("GET", "/latest/meta-data/tags/instance/"+k); n != 1 {
			t.Errorf("tag %s asked for %d times", k, n)
		}
	}
	if n := srv.Count("PUT", "/latest/api/token"); n != 1 {
		t.Errorf("%d token requests", n)
	}

	wantData := names.Data{InstanceID: "i-0123456789abcdef0", ShortID: "89abcdef0"[1:], LaunchIndex: "3",
		InstanceType: "m5d.large", LifeCycle: "spot", AvailabilityZone: "eu-west-1b", Region: "eu-west-1",
		LocalIPv4: "10.1.2.3", LocalIPv4Dashed: "10-1-2-3", Tags: want.Tags, TagsAvailable: true}
	if diff := cmp.Diff(wantData, got.NameData()); diff != "" {
		t.Errorf("NameData (-want +got):\n%s", diff)
	}
}

// Tags that no file or name can carry are left out with a warning; the
// rest of the facts stand.
func TestGatherBadTags(t *testing.T) {
	md := fleetMetadata()
	md["/latest/meta-data/tags/instance/Team"] = "line one\nline two"
	md["/latest/meta-data/tags/instance/bad key"] = "x"
	md["/latest/meta-data/ami-launch-index"] = "three"
	srv := fakeimds.New(t, md)
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"Name": "web-3", "aws:autoscaling:groupName": "web-asg"}, got.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if got.LaunchIndex != nil {
		t.Errorf("LaunchIndex = %d, want none", *got.LaunchIndex)
	}
	want := []string{
		`metadata ami-launch-index: "three" is not a launch index; treated as absent`,
		`metadata tags/instance/Team: the value has a control character; left out`,
		`metadata tags/instance: the key "bad key" is not one IMDS serves; left out`,
	}
	if diff := cmp.Diff(want, sorted(got.Warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// Without instance metadata tags (the default) the service answers 404:
// no tags, no warning, nothing else lost.
func TestGatherTagsNotEnabled(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	got, err := facts.Gather(ctxFor(t, 5*time.Second), client(t, srv.URL), opts("10.1.2.3"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if got.TagsAvailable || got.Tags != nil || len(got.Warnings) > 0 {
		t.Errorf("tags %v (available %v), warnings %q", got.Tags, got.TagsAvailable, got.Warnings)
	}
}

// AWS's emulator with the tags an Auto Scaling group sets: its two tag
// slots renamed to Name and aws:autoscaling:groupName, as a launch
// template with instance metadata tags serves them. It crashes on two
// listings at once, so this also proves the tags' listing runs alone
// among plain reads.
func TestGatherFleetEmulator(t *testing.T) {
	cfg := emulated
	cfg.Values = map[string]string{"tags-instance-name": "web-3", "tags-instance-test": "web-asg", "ami-launch-index": "1"}
	for k, v := range emulated.Values {
		cfg.Values[k] = v
	}
	cfg.Paths = map[string]string{"tags-instance-test": "/latest/meta-data/tags/instance/aws:autoscaling:groupName"}
	srv := aemm.Start(t, cfg)
	got, err := facts.Gather(ctxFor(t, 10*time.Second), client(t, srv.URL), opts("10.200.0.1"))
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"Name": "web-3", "aws:autoscaling:groupName": "web-asg"}, got.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if got.LaunchIndex == nil || *got.LaunchIndex != 1 {
		t.Errorf("LaunchIndex = %v", got.LaunchIndex)
	}
	if got.LocalIPv4 != netip.MustParseAddr("10.200.0.1") {
		t.Errorf("local-ipv4 %s", got.LocalIPv4)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

func intp(v int) *int { return &v }
