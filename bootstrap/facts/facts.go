// Package facts is what ec2boot knows about the instance it runs on: read
// from the instance metadata service, cross-checked against the interfaces,
// cached for the next run, and written for other units to use.
package facts

import (
	"net/netip"
	"time"
)

// Facts about this instance. Addresses are invalid (zero) when absent: a
// private instance has no public IPv4, and that is normal.
type Facts struct {
	InstanceID       string            `json:"instance_id"`
	ImageID          string            `json:"image_id,omitempty"`
	InstanceType     string            `json:"instance_type,omitempty"`
	Region           string            `json:"region,omitempty"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	LocalIPv4        netip.Addr        `json:"local_ipv4"`
	PublicIPv4       netip.Addr        `json:"public_ipv4"`
	IPv6             netip.Addr        `json:"ipv6"`
	LocalHostname    string            `json:"local_hostname,omitempty"`
	PublicHostname   string            `json:"public_hostname,omitempty"`
	MAC              string            `json:"mac,omitempty"`
	BlockDevices     map[string]string `json:"block_devices,omitempty"`   // mapping name (ami, root, ephemeral0) -> device
	InstanceStores   []string          `json:"instance_stores,omitempty"` // devices of the ephemeralN mappings
	// LaunchIndex is ami-launch-index: the position within one launch
	// request, from 0; nil when the service does not say.
	LaunchIndex *int `json:"ami_launch_index,omitempty"`
	// LifeCycle is instance-life-cycle: "spot" or "on-demand".
	LifeCycle string `json:"instance_life_cycle,omitempty"`
	// TargetLifecycleState is autoscaling/target-lifecycle-state
	// (InService, Terminated, Detached, Standby, Warmed:*); empty outside
	// Auto Scaling.
	TargetLifecycleState string `json:"target_lifecycle_state,omitempty"`
	// LaunchTime is pendingTime from the instance identity document: when
	// the instance was last launched (or started after a stop).
	LaunchTime time.Time `json:"launch_time,omitzero"`
	// Tags are the instance's tags (tags/instance), when the launch
	// template enables instance metadata tags; TagsAvailable is false when
	// the service serves none (404), which is the default on EC2.
	Tags          map[string]string `json:"tags,omitempty"`
	TagsAvailable bool              `json:"tags_available,omitempty"`
	GatheredAt    time.Time         `json:"gathered_at,omitzero"`
	// Source is "imds", or "cache" when the metadata service was unreachable
	// and the last known facts were used.
	Source string `json:"source"`
	// Degraded explains why the facts may be out of date; empty when fresh.
	Degraded string `json:"degraded,omitempty"`
	// MetadataEndpoint is the metadata service these facts came from, so
	// that other clients (the AWS SDK's instance-role credentials) ask the
	// same one. Not saved: it describes this run, not the instance.
	MetadataEndpoint string `json:"-"`
	// Warnings are doubts that did not stop the gathering (local-ipv4 on
	// no interface, an answer that was not a valid value).
	Warnings []string `json:"warnings,omitempty"`
}

// The values of Facts.Source.
const (
	SourceIMDS  = "imds"
	SourceCache = "cache"
)

// The address kinds a DNS record or template can ask for.
const (
	LocalIPv4  = "local-ipv4"
	PublicIPv4 = "public-ipv4"
	IPv6       = "ipv6"
)

// Address returns the address of the given kind, and whether it is known.
func (f *Facts) Address(kind string) (netip.Addr, bool) {
	var a netip.Addr
	switch kind {
	case LocalIPv4:
		a = f.LocalIPv4
	case PublicIPv4:
		a = f.PublicIPv4
	case IPv6:
		a = f.IPv6
	}
	return a, a.IsValid()
}
