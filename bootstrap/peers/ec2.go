package peers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/ec2boot/ec2boot/bootstrap/awsconfig"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	fleetnames "github.com/ec2boot/ec2boot/bootstrap/names"
)

// ASGTag is the tag Auto Scaling puts on the instances of a group.
const ASGTag = "aws:autoscaling:groupName"

// maxPages bounds one role's DescribeInstances pages (1,000 instances
// each): an answer that never ends must not keep the run for ever.
const maxPages = 50

// DescribeInstancesFunc is the one EC2 call the ec2 source makes, as a
// method value (client.DescribeInstances) rather than an interface: a
// client stored in an interface keeps every one of its several hundred
// operations in the binary, because templates make the linker keep all
// exported methods of such types.
type DescribeInstancesFunc func(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)

// EC2 finds a role's members by their tags: running instances carrying
// every tag of the role (and, with same_asg, this instance's Auto
// Scaling group), page by page.
type EC2 struct {
	Describe DescribeInstancesFunc
	Filters  []ec2types.Filter
	// Addresses are the kinds each member gets (config AddressKinds).
	Addresses []string
	// Name is the role's name template; nil means the private DNS name.
	Name *fleetnames.Template
	// Region is put into each member's name data.
	Region string
	// Timeout bounds each call.
	Timeout time.Duration
	// PageSize is MaxResults (5 to 1000; 0 means 1000).
	PageSize int32
}

// NewEC2Client makes the EC2 client of a role: region, credentials and
// the endpoint as bootstrap/awsconfig reads them (the environment's keys,
// else the instance role from the metadata service at imdsEndpoint, the
// one ec2boot reads its facts from; AWS_ENDPOINT_URL_EC2, else
// AWS_ENDPOINT_URL). A throttled or failing call is retried a little,
// within the call's deadline; the next timer run is the real retry. It
// sends nothing.
func NewEC2Client(ctx context.Context, region, imdsEndpoint string) (*ec2.Client, error) {
	cfg, err := awsconfig.New(awsconfig.Options{Region: region, Service: "EC2", IMDSEndpoint: imdsEndpoint,
		MaxAttempts: 3, MaxBackoff: time.Second})
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return ec2.NewFromConfig(cfg), nil
}

// EC2Filters are the DescribeInstances filters of a role: each tag, the
// group when same_asg (asg is this instance's group), and running.
func EC2Filters(d config.Discover, asg string) ([]ec2types.Filter, error) {
	var fs []ec2types.Filter
	keys := make([]string, 0, len(d.Tag))
	for k := range d.Tag {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fs = append(fs, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{d.Tag[k]}})
	}
	if d.SameASG {
		if asg == "" {
			return nil, fmt.Errorf("same_asg: this instance has no %s tag in its metadata (enable instance metadata tags in the launch template)", ASGTag)
		}
		fs = append(fs, ec2types.Filter{Name: aws.String("tag:" + ASGTag), Values: []string{asg}})
	}
	return append(fs, ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"running"}}), nil
}

// Members lists the matching instances, following NextToken.
func (s EC2) Members(ctx context.Context) ([]Member, error) {
	var out []Member
	var token *string
	size := s.PageSize
	if size == 0 {
		size = 1000
	}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("ec2 DescribeInstances: more than %d pages", maxPages)
		}
		cctx, cancel := context.WithTimeout(ctx, s.Timeout)
		resp, err := s.Describe(cctx, &ec2.DescribeInstancesInput{
			Filters: s.Filters, NextToken: token, MaxResults: aws.Int32(size),
		})
		cancel()
		if err != nil {
			return nil, ec2Error(err)
		}
		for _, r := range resp.Reservations {
			for _, in := range r.Instances {
				m, err := s.member(in)
				if err != nil {
					return nil, fmt.Errorf("ec2 instance %s: %w", aws.ToString(in.InstanceId), err)
				}
				out = append(out, m)
			}
		}
		if aws.ToString(resp.NextToken) == "" {
			return finish(out), nil
		}
		token = resp.NextToken
	}
}

func (s EC2) member(in ec2types.Instance) (Member, error) {
	m := Member{InstanceID: aws.ToString(in.InstanceId), Tags: map[string]string{}}
	for _, t := range in.Tags {
		m.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	priv, _ := netip.ParseAddr(aws.ToString(in.PrivateIpAddress))
	for _, kind := range s.Addresses {
		var a netip.Addr
		switch kind {
		case "private-ipv4":
			a = priv
		case "public-ipv4":
			a, _ = netip.ParseAddr(aws.ToString(in.PublicIpAddress))
		case "ipv6":
			a, _ = netip.ParseAddr(aws.ToString(in.Ipv6Address))
		}
		if a.IsValid() {
			m.Addrs = append(m.Addrs, a.Unmap())
		}
	}
	d := fleetnames.Data{
		InstanceID: m.InstanceID, ShortID: fleetnames.ShortID(m.InstanceID),
		InstanceType: string(in.InstanceType), Region: s.Region,
		Tags: m.Tags, TagsAvailable: true,
	}
	if in.AmiLaunchIndex != nil {
		d.LaunchIndex = fmt.Sprint(*in.AmiLaunchIndex)
	}
	if in.Placement != nil {
		d.AvailabilityZone = aws.ToString(in.Placement.AvailabilityZone)
	}
	if priv.IsValid() {
		d.LocalIPv4 = priv.String()
		d.LocalIPv4Dashed = dashed(priv)
	}
	name, err := memberName(s.Name, d, aws.ToString(in.PrivateDnsName))
	if err != nil {
		return Member{}, err
	}
	m.Name = name
	return m, nil
}

// ec2Error names what went wrong in the words of the API; a denial
// becomes a DeniedError.
func ec2Error(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure":
			return &DeniedError{Action: "ec2:DescribeInstances", Err: fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())}
		case "RequestLimitExceeded", "Throttling":
			return fmt.Errorf("ec2 DescribeInstances throttled (%s): %s", ae.ErrorCode(), ae.ErrorMessage())
		}
		return fmt.Errorf("ec2 DescribeInstances: %s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("ec2 DescribeInstances: %w", err)
}

func dashed(a netip.Addr) string {
	b := []byte(a.String())
	for i, c := range b {
		if c == '.' || c == ':' {
			b[i] = '-'
		}
	}
	return string(b)
}
