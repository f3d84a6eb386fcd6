package awsapi

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"
)

func fleet(n int) []Instance {
	var out []Instance
	for i := 1; i <= n; i++ {
		in := Instance{
			ID:             fmt.Sprintf("i-%017x", i),
			PrivateIP:      netip.AddrFrom4([4]byte{10, 200, 0, byte(i)}),
			AMILaunchIndex: i - 1,
			LaunchTime:     time.Date(2026, 12, 1, 0, 0, i, 0, time.UTC),
			Tags:           []Tag{{"aws:autoscaling:groupName", "asg-a"}, {"Name", fmt.Sprintf("node-%d", i)}},
		}
		if i%2 == 0 {
			in.Tags[0].Value = "asg-b"
			in.PublicIP = netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		}
		if i == 3 {
			in.State = "stopped"
		}
		out = append(out, in)
	}
	return out
}

func ids(out *ec2.DescribeInstancesOutput) []string {
	var got []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			got = append(got, aws.ToString(in.InstanceId))
		}
	}
	return got
}

func f(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// TestDescribeFilters: the filters discovery tools send, through the SDK.
func TestDescribeFilters(t *testing.T) {
	s, _, ec := peer(t, Options{})
	if err := s.SetInstances(fleet(6)); err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return fmt.Sprintf("i-%017x", i) }
	tests := []struct {
		name    string
		filters []types.Filter
		ids     []string
		want    []string
	}{
		{"all", nil, nil, []string{id(1), id(2), id(3), id(4), id(5), id(6)}},
		{"group tag and running (go-discover)", []types.Filter{f("tag:aws:autoscaling:groupName", "asg-a"), f("instance-state-name", "running")}, nil, []string{id(1), id(5)}},
		{"values OR", []types.Filter{f("instance-state-name", "running", "stopped"), f("tag:aws:autoscaling:groupName", "asg-a")}, nil, []string{id(1), id(3), id(5)}},
		{"tag-key", []types.Filter{f("tag-key", "Name")}, nil, []string{id(1), id(2), id(3), id(4), id(5), id(6)}},
		{"tag-key missing", []types.Filter{f("tag-key", "Role")}, nil, nil},
		{"tag-value wildcard", []types.Filter{f("tag-value", "node-?")}, nil, []string{id(1), id(2), id(3), id(4), id(5), id(6)}},
		{"tag wildcard", []types.Filter{f("tag:Name", "node-*"), f("tag:aws:autoscaling:groupName", "asg-b")}, nil, []string{id(2), id(4), id(6)}},
		{"instance-id filter", []types.Filter{f("instance-id", id(4), id(5))}, nil, []string{id(4), id(5)}},
		{"ids and filter", []types.Filter{f("instance-state-name", "stopped")}, []string{id(3), id(4)}, []string{id(3)}},
		{"state code", []types.Filter{f("instance-state-code", "80")}, nil, []string{id(3)}},
		{"ip-address", []types.Filter{f("ip-address", "203.0.113.4")}, nil, []string{id(4)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ec.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: tt.filters, InstanceIds: tt.ids})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, ids(out)); d != "" {
				t.Errorf("instances (-want +got):\n%s", d)
			}
		})
	}
}

// TestDescribeFields: every field discovery reads arrives in the SDK's
// types.
func TestDescribeFields(t *testing.T) {
	s, _, ec := peer(t, Options{EC2Region: "us-east-1"})
	in := fleet(2)[1]
	in.IPv6 = []netip.Addr{netip.MustParseAddr("2001:db8::2")}
	in.AvailabilityZone = "us-east-1c"
	if err := s.SetInstances([]Instance{in}); err != nil {
		t.Fatal(err)
	}
	out, err := ec.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations %+v", out.Reservations)
	}
	got := out.Reservations[0].Instances[0]
	type view struct {
		ID, Private, Public, IPv6, ENIIPv6, State, AZ, DNS, Launch string
		Code, Index                                                int32
		Tags                                                       []string
		Reservation, Owner                                         string
	}
	v := view{
		ID: aws.ToString(got.InstanceId), Private: aws.ToString(got.PrivateIpAddress), Public: aws.ToString(got.PublicIpAddress),
		IPv6: aws.ToString(got.Ipv6Address), State: string(got.State.Name), Code: aws.ToInt32(got.State.Code),
		AZ: aws.ToString(got.Placement.AvailabilityZone), DNS: aws.ToString(got.PrivateDnsName),
		Launch: aws.ToTime(got.LaunchTime).Format(time.RFC3339), Index: aws.ToInt32(got.AmiLaunchIndex),
		Reservation: aws.ToString(out.Reservations[0].ReservationId), Owner: aws.ToString(out.Reservations[0].OwnerId),
	}
	if len(got.NetworkInterfaces) == 1 && len(got.NetworkInterfaces[0].Ipv6Addresses) == 1 {
		v.ENIIPv6 = aws.ToString(got.NetworkInterfaces[0].Ipv6Addresses[0].Ipv6Address)
	}
	for _, tg := range got.Tags {
		v.Tags = append(v.Tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	want := view{ID: "i-00000000000000002", Private: "10.200.0.2", Public: "203.0.113.2", IPv6: "2001:db8::2", ENIIPv6: "2001:db8::2",
		State: "running", Code: 16, AZ: "us-east-1c", DNS: "ip-10-200-0-2.ec2.internal", Launch: "2026-12-01T00:00:02Z", Index: 1,
		Tags: []string{"aws:autoscaling:groupName=asg-b", "Name=node-2"}, Reservation: "r-00000000000000002", Owner: "111122223333"}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("instance (-want +got):\n%s", d)
	}
}

// TestDescribePaging: MaxResults pages through the SDK's paginator.
func TestDescribePaging(t *testing.T) {
	s, _, ec := peer(t, Options{})
	all := fleet(12)
	if err := s.SetInstances(all); err != nil {
		t.Fatal(err)
	}
	var got []string
	var sizes []int
	p := ec2.NewDescribeInstancesPaginator(ec, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(out)...)
		sizes = append(sizes, len(ids(out)))
	}
	var want []string
	for _, in := range all {
		want = append(want, in.ID)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paged instances (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{5, 5, 2}, sizes); d != "" {
		t.Errorf("page sizes (-want +got):\n%s", d)
	}
	if n := s.Count(EC2, "DescribeInstances"); n < 3 {
		t.Errorf("%d requests for 12 instances at 5 a page, want at least 3", n)
	}
}

// TestDescribeRefused: bad parameters come back as EC2's error codes.
func TestDescribeRefused(t *testing.T) {
	s, _, ec := peer(t, Options{})
	if err := s.SetInstances(fleet(3)); err != nil {
		t.Fatal(err)
	}
	first, err := ec.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), Filters: []types.Filter{f("tag-key", "Name")}})
	if err != nil {
		t.Fatal(err)
	}
	if first.NextToken != nil {
		t.Errorf("3 instances at 5 a page gave a next token")
	}
	tests := []struct {
		name string
		in   ec2.DescribeInstancesInput
		code string
	}{
		{"MaxResults below 5", ec2.DescribeInstancesInput{MaxResults: aws.Int32(3)}, "InvalidParameterValue"},
		{"MaxResults with ids", ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{"i-00000000000000001"}}, "InvalidParameterCombination"},
		{"unknown filter", ec2.DescribeInstancesInput{Filters: []types.Filter{f("colour", "red")}}, "InvalidParameterValue"},
		{"filter without values", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag-key")}}}, "InvalidParameterValue"},
		{"garbage token", ec2.DescribeInstancesInput{NextToken: aws.String("garbage")}, "InvalidNextToken"},
		{"unknown instance", ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000000f"}}, "InvalidInstanceID.NotFound"},
		{"malformed instance id", ec2.DescribeInstancesInput{InstanceIds: []string{"web-1"}}, "InvalidInstanceID.Malformed"},
		{"dry run", ec2.DescribeInstancesInput{DryRun: aws.Bool(true)}, "DryRunOperation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ec.DescribeInstances(ctx(t), &tt.in)
			if got := code(err); got != tt.code {
				t.Errorf("code %q (%v), want %q", got, err, tt.code)
			}
		})
	}
	// A token is only good for the filters it came from.
	s.SetInstances(fleet(7))
	page, err := ec.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	if err != nil || page.NextToken == nil {
		t.Fatalf("first page: %v %v", err, page)
	}
	_, err = ec.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: page.NextToken, Filters: []types.Filter{f("tag-key", "Name")}})
	if code(err) != "InvalidNextToken" {
		t.Errorf("token reused with other filters: %v", err)
	}
}

// TestDescribeSignedGet: the Query protocol as a signed GET (as some
// discovery clients send it) and strictness about parameters.
func TestDescribeSignedGet(t *testing.T) {
	s := Start(t, Options{})
	s.AddCredentials(testKey)
	if err := s.SetInstances(fleet(2)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query  string
		status int
		want   string
	}{
		{"Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=node-2", 200, "<instanceId>i-00000000000000002</instanceId>"},
		{"Action=DescribeInstances&Version=2016-11-15&Bogus=1", 400, "<Code>UnknownParameter</Code>"},
		{"Action=DescribeInstances&Version=2014-01-01", 400, "<Code>NoSuchVersion</Code>"},
		{"Action=RunInstances&Version=2016-11-15", 400, "<Code>InvalidAction</Code>"},
		{"Version=2016-11-15", 400, "<Code>MissingAction</Code>"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/?"+tt.query, nil)
		signRequest(t, req, "ec2", "us-east-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s, want %d with %s", tt.query, resp.StatusCode, body, tt.status, tt.want)
		}
		if resp.StatusCode >= 400 && !strings.Contains(string(body), "<RequestID>") {
			t.Errorf("%s: error without RequestID: %s", tt.query, body)
		}
	}
}
