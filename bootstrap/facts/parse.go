package facts

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// ParseListing splits an IMDS directory listing into its entries. Entries
// that are directories themselves keep their trailing slash. Blank lines are
// skipped; an entry that could escape the directory ("..", "a/b") is an
// error, so that a listing can never steer later requests elsewhere.
func ParseListing(b []byte) ([]string, error) {
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name := strings.TrimSuffix(line, "/")
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\?#%") || !printable(name) {
			return nil, fmt.Errorf("listing line %d: %q is not an entry name", i+1, line)
		}
		out = append(out, line)
	}
	return out, nil
}

// ParseBlockDevices turns the block-device-mapping entries (name → device
// as IMDS gave it) into the mapping with /dev/ paths and the instance-store
// devices in ephemeralN order. Bad names or devices are reported and left
// out.
func ParseBlockDevices(entries map[string]string) (devices map[string]string, stores []string, problems []string) {
	devices = map[string]string{}
	type eph struct {
		n   int
		dev string
	}
	var ephs []eph
	for name, raw := range entries {
		dev := strings.TrimSpace(raw)
		if !isMappingName(name) {
			problems = append(problems, fmt.Sprintf("block-device-mapping entry %q: not a mapping name", name))
			continue
		}
		if !isDeviceName(dev) {
			problems = append(problems, fmt.Sprintf("block-device-mapping/%s: %q is not a device name", name, dev))
			continue
		}
		if !strings.HasPrefix(dev, "/dev/") {
			dev = "/dev/" + dev
		}
		devices[name] = dev
		if n, ok := strings.CutPrefix(name, "ephemeral"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 {
				ephs = append(ephs, eph{i, dev})
			}
		}
	}
	sort.Slice(ephs, func(a, b int) bool { return ephs[a].n < ephs[b].n })
	for _, e := range ephs {
		stores = append(stores, e.dev)
	}
	sort.Strings(problems)
	if len(devices) == 0 {
		devices = nil
	}
	return devices, stores, problems
}

// parseAddr reads an address of the wanted family from the first line of
// an answer (ipv6s lists one address per line).
func parseAddr(b []byte, want4 bool) (netip.Addr, error) {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an address", clip(s))
	}
	if a.Zone() != "" || (want4 && !a.Is4()) || (!want4 && (!a.Is6() || a.Is4In6())) {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv%s address", s, map[bool]string{true: "4", false: "6"}[want4])
	}
	return a, nil
}

// parseHost reads a host name. IMDS gives several, space-separated, when
// the VPC's DHCP options list several domains; the first is the one.
func parseHost(b []byte) (string, error) {
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return "", nil
	}
	if !config.IsHostname(fields[0]) {
		return "", fmt.Errorf("%q is not a host name", clip(fields[0]))
	}
	return fields[0], nil
}

func parseToken(b []byte) (string, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", nil
	}
	if !isToken(s) {
		return "", fmt.Errorf("%q is not an identifier", clip(s))
	}
	return s, nil
}

func parseMAC(b []byte) (string, error) {
	s := strings.TrimSpace(string(b))
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("%q is not a MAC address", clip(s))
	}
	return hw.String(), nil
}

// regionOf derives a region from a zone name, for services that lack
// placement/region.
func regionOf(zone string) string {
	if m := zoneRe.FindStringSubmatch(zone); m != nil {
		return m[1]
	}
	return ""
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r == 0x7f {
			return false
		}
	}
	return true
}

// clip keeps error messages short when a service answers with a page of
// HTML instead of a value.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// The patterns of the values the metadata service gives. Lengths are checked
// apart: a bounded repetition such as {0,127} compiles into that many
// states, which would cost every start a noticeable part of a millisecond.
var (
	// An instance-id: "i-" and letters or digits. EC2 uses 8 or 17 hex
	// digits; tests and emulators use other letters, which are harmless.
	instanceIDRe = regexp.MustCompile(`^i-[0-9A-Za-z]+$`)
	// Identifiers such as ami-…, m5d.large, eu-west-1, eu-west-1b.
	tokenRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	// A block-device-mapping entry name: ami, root, swap, ebsN, ephemeralN.
	mappingRe = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	// A device as IMDS gives it: "sdb", "/dev/xvda", "xvdcz".
	deviceRe = regexp.MustCompile(`^(/dev/)?[A-Za-z0-9][A-Za-z0-9_-]*$`)
	// An availability zone whose region is the name less its last letter
	// (not local or wavelength zones, whose names are longer).
	zoneRe = regexp.MustCompile(`^([a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]+)[a-z]$`)
)

func isInstanceID(s string) bool  { return len(s) <= 2+32 && instanceIDRe.MatchString(s) }
func isToken(s string) bool       { return len(s) <= 128 && tokenRe.MatchString(s) }
func isMappingName(s string) bool { return len(s) <= 32 && mappingRe.MatchString(s) }

// isDeviceName allows 64 bytes after the optional /dev/ (a name cannot
// start with '/', so a leading /dev/ is always that prefix).
func isDeviceName(s string) bool {
	return len(strings.TrimPrefix(s, "/dev/")) <= 64 && deviceRe.MatchString(s)
}
