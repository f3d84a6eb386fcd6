// Package names makes this instance's DNS names: record names, its own
// /etc/hosts names and peer names may be Go text/template templates over
// the instance's facts ("web-{{ .ShortID }}.internal.example.com"), so that
// every instance of an Auto Scaling group, booted from one launch template
// and one user-data, gets names of its own. A name is checked once it is
// made: a missing fact or an invalid result is one error naming the fact.
//
// The package is a leaf: the facts package fills Data, the config package
// parses and expands its names with it.
package names

import (
	"sort"
	"strings"
)

// Data is what a name template sees as ".". docs/config.md documents each
// field; the names match the fields of the same facts in the templates of
// the render step (InstanceID, Region, AvailabilityZone, LocalIPv4, ...).
type Data struct {
	// InstanceID is the whole id, "i-0123456789abcdef0".
	InstanceID string
	// ShortID is the last 8 hexadecimal digits of the instance-id
	// ("89abcdef0" gives "9abcdef0"); an old 8-digit id is used whole.
	// Two instances share it with a chance of one in 4 billion per pair.
	ShortID string
	// LaunchIndex is ami-launch-index: the position within one launch
	// request, from "0". Auto Scaling launches most instances in requests
	// of their own, so it is no fleet-wide counter.
	LaunchIndex      string
	InstanceType     string
	LifeCycle        string // instance-life-cycle: "spot" or "on-demand"
	AvailabilityZone string // "eu-west-1b"
	Region           string // "eu-west-1"
	LocalIPv4        string // "10.0.1.23"
	// LocalIPv4Dashed is LocalIPv4 with dashes, one label: "10-0-1-23".
	LocalIPv4Dashed string
	// Tags are the instance's tags from the metadata service (tags/instance),
	// read only when the launch template enables instance metadata tags.
	// A key that is not a Go identifier is reached with tag: {{ tag "aws:autoscaling:groupName" }}.
	Tags map[string]string
	// TagsAvailable is false when the metadata service serves no tags at
	// all (instance metadata tags are not enabled).
	TagsAvailable bool
}

// Fields lists the facts a template may name, in documentation order.
func Fields() []string {
	return []string{"InstanceID", "ShortID", "LaunchIndex", "InstanceType", "LifeCycle",
		"AvailabilityZone", "Region", "LocalIPv4", "LocalIPv4Dashed", "Tags"}
}

// ShortID returns the short form of an instance-id: its last 8 hex digits.
func ShortID(instanceID string) string {
	hex := strings.TrimPrefix(instanceID, "i-")
	if len(hex) > 8 {
		hex = hex[len(hex)-8:]
	}
	return hex
}

// Dashed writes a dotted IPv4 address as one label: "10.0.1.23" gives
// "10-0-1-23".
func Dashed(addr string) string { return strings.ReplaceAll(addr, ".", "-") }

// IsTemplate reports whether s is a template rather than a literal name.
func IsTemplate(s string) bool { return strings.Contains(s, "{{") }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
