// Package factsfile is the first step of a run: it writes the instance
// facts for other units, as an EnvironmentFile (/run/ec2boot/facts.env,
// EC2BOOT_* keys, also sourceable by sh) and as JSON
// (/run/ec2boot/facts.json), each atomically and only when it changed.
package factsfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
)

// The files the step writes, as host paths (under --root).
const (
	Dir      = "/run/ec2boot"
	EnvPath  = Dir + "/facts.env"
	JSONPath = Dir + "/facts.json"
)

// Prefix starts every key of the environment file.
const Prefix = "EC2BOOT_"

// RenderEnv returns the environment file for f. Every key is always
// present, empty when the fact is absent, so that units can tell "absent"
// from "file not written". Values are double-quoted with \ " ` $ escaped:
// the same reading under systemd's EnvironmentFile= and sh's ".".
func RenderEnv(f *facts.Facts) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Instance facts written by ec2boot; do not edit: it is rewritten when they change.\n")
	add := func(key, value string) error {
		q, err := Quote(value)
		if err != nil {
			return fmt.Errorf("%s%s: %w", Prefix, key, err)
		}
		fmt.Fprintf(&b, "%s%s=%s\n", Prefix, key, q)
		return nil
	}
	pairs := [][2]string{
		{"INSTANCE_ID", f.InstanceID},
		{"IMAGE_ID", f.ImageID},
		{"INSTANCE_TYPE", f.InstanceType},
		{"REGION", f.Region},
		{"AVAILABILITY_ZONE", f.AvailabilityZone},
		{"LOCAL_IPV4", addr(f.LocalIPv4)},
		{"PUBLIC_IPV4", addr(f.PublicIPv4)},
		{"IPV6", addr(f.IPv6)},
		{"LOCAL_HOSTNAME", f.LocalHostname},
		{"PUBLIC_HOSTNAME", f.PublicHostname},
		{"MAC", f.MAC},
		{"INSTANCE_STORES", strings.Join(f.InstanceStores, " ")},
		{"AMI_LAUNCH_INDEX", launchIndex(f.LaunchIndex)},
		{"INSTANCE_LIFE_CYCLE", f.LifeCycle},
		{"TARGET_LIFECYCLE_STATE", f.TargetLifecycleState},
		{"LAUNCH_TIME", launchTime(f.LaunchTime)},
	}
	names := make([]string, 0, len(f.BlockDevices))
	for n := range f.BlockDevices {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pairs = append(pairs, [2]string{"BLOCK_DEVICE_" + envName(n), f.BlockDevices[n]})
	}
	vars, _ := TagVars(f.Tags)
	for _, v := range vars {
		pairs = append(pairs, [2]string{v.Name, v.Value})
	}
	pairs = append(pairs, [2]string{"FACTS_SOURCE", f.Source}, [2]string{"FACTS_DEGRADED", f.Degraded})
	for _, p := range pairs {
		if err := add(p[0], p[1]); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// RenderJSON returns facts.json: the facts without the time they were
// gathered, so that an unchanged instance writes nothing.
func RenderJSON(f *facts.Facts) ([]byte, error) {
	c := *f
	c.GatheredAt = time.Time{}
	out, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("facts.json: %w", err)
	}
	return append(out, '\n'), nil
}

// Quote double-quotes v for an environment file. Control characters have
// no escape that both systemd and sh read the same way, and no fact
// contains them, so they are refused.
func Quote(v string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("value %q has a control character", v)
		case r == '\\' || r == '"' || r == '`' || r == '$':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// envName turns a mapping name (ephemeral0) into a key part (EPHEMERAL0).
func envName(n string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, n)
}

func launchIndex(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

func launchTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// TagVar is one tag as an environment variable.
type TagVar struct {
	Name  string // without the EC2BOOT_ prefix: TAG_NAME
	Key   string // the tag's key: Name
	Value string
}

// TagVars maps tags to variable names: TAG_ and the key in upper case,
// every character other than a letter or digit turned into '_'
// ("aws:autoscaling:groupName" gives TAG_AWS_AUTOSCALING_GROUPNAME). Two
// keys can give one name ("team-a" and "Team_A"): the key that sorts first
// (byte order) keeps it, the others are left out of facts.env (facts.json
// has every tag under its own key) and named in the warnings.
func TagVars(tags map[string]string) ([]TagVar, []string) {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []TagVar
	var warnings []string
	owner := map[string]string{}
	for _, k := range keys {
		name := "TAG_" + envName(k)
		if first, taken := owner[name]; taken {
			warnings = append(warnings, fmt.Sprintf("tag %q would be %s%s like tag %q: left out of facts.env (facts.json has it)", k, Prefix, name, first))
			continue
		}
		owner[name] = k
		out = append(out, TagVar{Name: name, Key: k, Value: tags[k]})
	}
	return out, warnings
}
