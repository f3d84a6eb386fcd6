// Package ec2detect decides, from local files alone, whether this machine
// is an EC2 instance. It lets a run off EC2 stop in milliseconds instead of
// waiting out the metadata deadline, and guarantees that such a run never
// sends a packet to the metadata address.
//
// The signatures are the ones cloud-init and the AWS documentation use:
// Nitro instances report the DMI vendor "Amazon EC2"; Xen instances have a
// DMI product UUID, or a Xen hypervisor UUID, starting with "ec2" (the DMI
// one possibly in little-endian byte order).
package ec2detect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// The files read, as host paths (under --root).
const (
	SysVendor     = "/sys/devices/virtual/dmi/id/sys_vendor"
	BoardVendor   = "/sys/devices/virtual/dmi/id/board_vendor"
	ProductUUID   = "/sys/devices/virtual/dmi/id/product_uuid"
	BoardAssetTag = "/sys/devices/virtual/dmi/id/board_asset_tag"
	HypervisorUID = "/sys/hypervisor/uuid"
)

const amazonVendor = "Amazon EC2"

// instanceIDPattern is an EC2 instance-id: "i-" and 8 (old) or 17 (current)
// lower-case hex digits.
var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// Result is what the local files say.
type Result struct {
	OnEC2 bool
	// Evidence names the file and value that decided, or what was checked
	// when nothing matched, for the operator's message.
	Evidence string
	// InstanceID is the instance-id Nitro instances put in the DMI board
	// asset tag, or "" (Xen instances, or not EC2).
	InstanceID string
}

// OnEC2 reports whether this looks like an EC2 instance, and why.
func OnEC2(root hostfs.Root) (bool, string) {
	r := Detect(root)
	return r.OnEC2, r.Evidence
}

// Detect reads the DMI and hypervisor files under root.
func Detect(root hostfs.Root) Result {
	var res Result
	if tag, _ := read(root, BoardAssetTag); instanceIDPattern.MatchString(tag) {
		res.InstanceID = tag
	}
	var seen []string
	for _, f := range []string{SysVendor, BoardVendor} {
		v, err := read(root, f)
		if err != nil {
			seen = append(seen, describe(f, "", err))
			continue
		}
		if v == amazonVendor {
			res.OnEC2, res.Evidence = true, fmt.Sprintf("%s is %q", f, v)
			return res
		}
		seen = append(seen, describe(f, v, nil))
	}
	for _, f := range []string{ProductUUID, HypervisorUID} {
		v, err := read(root, f)
		if err != nil {
			seen = append(seen, describe(f, "", err))
			continue
		}
		if ec2UUID(v, f == ProductUUID) {
			res.OnEC2, res.Evidence = true, fmt.Sprintf("%s %q starts with ec2", f, v)
			return res
		}
		seen = append(seen, describe(f, v, nil))
	}
	res.Evidence = "no EC2 signature: " + strings.Join(seen, "; ")
	return res
}

// ec2UUID reports whether a UUID starts with "ec2", either as written or,
// for DMI (which some firmware stores little-endian), with the bytes of
// its first field reversed: 45E12AEC-… is EC2AE145-….
func ec2UUID(u string, maybeSwapped bool) bool {
	u = strings.ToLower(u)
	if strings.HasPrefix(u, "ec2") {
		return true
	}
	if !maybeSwapped || len(u) < 8 {
		return false
	}
	f := u[:8]
	swapped := f[6:8] + f[4:6] + f[2:4] + f[0:2]
	return strings.HasPrefix(swapped, "ec2")
}

// read returns a sysfs value, trimmed. Files are tiny; a cap keeps a
// strange root from making us read much.
func read(root hostfs.Root, p string) (string, error) {
	f, err := os.Open(root.Path(p))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func describe(f, v string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f + " absent"
	case errors.Is(err, fs.ErrPermission):
		return f + " unreadable"
	case err != nil:
		return fmt.Sprintf("%s: %v", f, err)
	case v == "":
		return f + " empty"
	}
	return fmt.Sprintf("%s %q", f, v)
}

// ErrNotEC2 is returned by Check off EC2.
var ErrNotEC2 = errors.New("not running on EC2")

// Check returns nil on EC2, or when the metadata endpoint was given
// explicitly (an emulator, a test); otherwise an error wrapping ErrNotEC2
// with the evidence, so that the caller stops without sending anything.
func Check(root hostfs.Root, endpointGiven bool) (Result, error) {
	r := Detect(root)
	if r.OnEC2 || endpointGiven {
		return r, nil
	}
	return r, fmt.Errorf("%w (%s); instance metadata was not queried: give --imds-endpoint or AWS_EC2_METADATA_SERVICE_ENDPOINT to read it from elsewhere", ErrNotEC2, r.Evidence)
}
