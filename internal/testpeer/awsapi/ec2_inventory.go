package awsapi

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

// Tag is one EC2 tag.
type Tag struct{ Key, Value string }

// Instance is one simulated EC2 instance: DescribeInstances lists it and
// AEMMConfig turns it into the metadata its own emulator serves, so that
// what an instance reads about itself and what its peers discover agree.
type Instance struct {
	ID            string // i-0123456789abcdef0
	ReservationID string // default r- with the instance's hex digits
	ImageID       string // default ami-0123456789abcdef0
	InstanceType  string // default t3.micro
	// State is one of pending, running, shutting-down, terminated,
	// stopping, stopped (default running).
	State            string
	PrivateIP        netip.Addr
	PublicIP         netip.Addr // invalid: none
	IPv6             []netip.Addr
	AvailabilityZone string // default <EC2 region>a
	LaunchTime       time.Time
	AMILaunchIndex   int
	Tags             []Tag
	// Role and Credentials are the instance profile's role and the
	// credentials its metadata hands out; Expiration zero means an hour
	// after the emulator starts.
	Role        string
	Credentials Credentials
	Expiration  time.Time
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

var instanceIDRE = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// SetInstances replaces the inventory DescribeInstances answers from, in
// this order.
func (s *Server) SetInstances(list []Instance) error {
	out := make([]Instance, len(list))
	for i, in := range list {
		if !instanceIDRE.MatchString(in.ID) {
			return fmt.Errorf("instance %d: id %q is not i- and 8 or 17 hex digits", i, in.ID)
		}
		if in.State == "" {
			in.State = "running"
		}
		if _, ok := stateCodes[in.State]; !ok {
			return fmt.Errorf("instance %s: unknown state %q", in.ID, in.State)
		}
		if !in.PrivateIP.Is4() {
			return fmt.Errorf("instance %s: private IPv4 address missing", in.ID)
		}
		in = in.withDefaults(s.opt.EC2Region)
		in.Tags = slices.Clone(in.Tags)
		in.IPv6 = slices.Clone(in.IPv6)
		out[i] = in
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances = out
	return nil
}

func (in Instance) withDefaults(region string) Instance {
	if in.ReservationID == "" {
		in.ReservationID = "r-" + strings.TrimPrefix(in.ID, "i-")
	}
	if in.ImageID == "" {
		in.ImageID = "ami-0123456789abcdef0"
	}
	if in.InstanceType == "" {
		in.InstanceType = "t3.micro"
	}
	if in.AvailabilityZone == "" {
		in.AvailabilityZone = region + "a"
	}
	if in.LaunchTime.IsZero() {
		in.LaunchTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return in
}

// privateDNS is the instance's internal host name (ec2.internal in
// us-east-1, <region>.compute.internal elsewhere).
func (in Instance) privateDNS(region string) string {
	dom := region + ".compute.internal"
	if region == "us-east-1" {
		dom = "ec2.internal"
	}
	return "ip-" + strings.ReplaceAll(in.PrivateIP.String(), ".", "-") + "." + dom
}

// AEMMConfig is the metadata emulator configuration of the instance in
// region: identity, addresses, placement, launch index, the identity
// document (pendingTime = LaunchTime), the role's credentials, and its
// tags under tags/instance. The emulator has two tag slots, so an
// instance with more than two tags is an error.
func (in Instance) AEMMConfig(region string) (aemm.Config, error) {
	if len(in.Tags) > 2 {
		return aemm.Config{}, fmt.Errorf("instance %s: the metadata emulator serves at most two tags, got %d", in.ID, len(in.Tags))
	}
	in = in.withDefaults(region)
	host := in.privateDNS(region)
	c := aemm.Config{
		IMDSv2: true,
		Values: map[string]string{
			"instance-id": in.ID, "local-ipv4": in.PrivateIP.String(), "ami-id": in.ImageID,
			"instance-type": in.InstanceType, "reservation-id": in.ReservationID,
			"ami-launch-index": fmt.Sprint(in.AMILaunchIndex), "hostname": host, "local-hostname": host,
			"placement-availability-zone": in.AvailabilityZone, "placement-region": region,
			"mac-local-ipv4s": in.PrivateIP.String(), "mac-local-hostname": host,
		},
		Paths: map[string]string{},
		Identity: map[string]any{
			"accountId": "111122223333", "availabilityZone": in.AvailabilityZone, "region": region,
			"instanceId": in.ID, "privateIp": in.PrivateIP.String(), "instanceType": in.InstanceType,
			"imageId": in.ImageID, "architecture": "x86_64", "version": "2017-09-30",
			"pendingTime": in.LaunchTime.UTC().Format(time.RFC3339),
		},
		Role: in.Role,
		RoleCredentials: aemm.RoleCredentials{
			AccessKeyID: in.Credentials.AccessKeyID, SecretAccessKey: in.Credentials.SecretAccessKey,
			Token: in.Credentials.Token, Expiration: in.Expiration,
		},
	}
	if in.PublicIP.IsValid() {
		c.Values["public-ipv4"] = in.PublicIP.String()
		c.Values["mac-public-ipv4s"] = in.PublicIP.String()
	} else {
		c.Paths["public-ipv4"] = ""
		c.Paths["mac-public-ipv4s"] = ""
		c.Paths["public-hostname"] = ""
		c.Paths["mac-public-hostname"] = ""
	}
	for i, slot := range []string{"tags-instance-name", "tags-instance-test"} {
		if i >= len(in.Tags) {
			c.Paths[slot] = ""
			continue
		}
		c.Paths[slot] = "/latest/meta-data/tags/instance/" + in.Tags[i].Key
		c.Values[slot] = in.Tags[i].Value
	}
	return c, nil
}
