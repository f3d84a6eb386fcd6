package relocate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// The NVMe model strings EC2 gives its disks (sysfs .../device/model, padded
// with spaces). Only the first is ever formatted or used.
const (
	ModelInstanceStore = "Amazon EC2 NVMe Instance Storage"
	ModelEBS           = "Amazon Elastic Block Store"
)

// Device is a block device ec2boot considered for the instance store.
type Device struct {
	Name string // kernel name, e.g. nvme1n1 or xvdb
	// Model is the sysfs model string, trimmed; empty on Xen devices.
	Model string
	// Why says how it was recognised: "nvme model" or "imds ephemeral0".
	Why string
}

// Path is the device node under root.
func (d Device) Path(root hostfs.Root) string { return root.Device("/dev/" + d.Name) }

// InstanceStore reports whether the device is known to be instance store.
func (d Device) InstanceStore() bool { return d.Why != "" }

// readModel returns the trimmed model of a whole disk, "" when it has none.
func readModel(root hostfs.Root, name string) string {
	b, err := os.ReadFile(root.Path("/sys/block/" + name + "/device/model"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// FindInstanceStores lists the instance-store disks, sorted by kernel name.
// NVMe disks are recognised by their model; ephemeral device names from the
// instance metadata (Xen-era types) count only when the disk exists and is
// not NVMe EBS. A name alone never makes a device instance store: NVMe
// names are handed out in any order at each boot.
func FindInstanceStores(root hostfs.Root, ephemeral []string) ([]Device, error) {
	entries, err := os.ReadDir(root.Path("/sys/block"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	var out []Device
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "nvme") {
			continue
		}
		if m := readModel(root, name); m == ModelInstanceStore {
			out = append(out, Device{Name: name, Model: m, Why: "nvme model"})
			seen[name] = true
		}
	}
	for i, hint := range ephemeral {
		for _, name := range xenNames(hint) {
			if seen[name] {
				break
			}
			if _, err := os.Stat(root.Path("/sys/block/" + name)); err != nil {
				continue
			}
			if strings.HasPrefix(name, "nvme") {
				break // NVMe is judged by its model only
			}
			out = append(out, Device{Name: name, Why: fmt.Sprintf("imds ephemeral%d", i)})
			seen[name] = true
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return lessName(out[i].Name, out[j].Name) })
	return out, nil
}

// xenNames are the kernel names an IMDS block-device-mapping value can show
// up as: "sdb" is "xvdb" on Xen guests (cloud-init's _remap_device).
func xenNames(hint string) []string {
	name := filepath.Base(strings.TrimSpace(hint))
	if name == "." || name == "/" || name == "" {
		return nil
	}
	if rest, ok := strings.CutPrefix(name, "sd"); ok {
		return []string{"xvd" + rest, name}
	}
	return []string{name}
}

// lessName orders kernel names naturally: nvme2n1 before nvme10n1.
func lessName(a, b string) bool {
	for a != "" && b != "" {
		ca, ra := chunk(a)
		cb, rb := chunk(b)
		if ca != cb {
			if isDigit(ca[0]) && isDigit(cb[0]) && len(ca) != len(cb) {
				return len(ca) < len(cb)
			}
			return ca < cb
		}
		a, b = ra, rb
	}
	return len(a) < len(b)
}

// chunk splits off a leading run of digits or of non-digits.
func chunk(s string) (head, rest string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// DeviceOf resolves a device number ("259:1", from mountinfo) to its disk,
// following sysfs: /sys/dev/block/M:m links to the disk, or to a partition
// whose parent directory is the disk. ok is false when sysfs does not know
// the number (tmpfs, overlay).
func DeviceOf(root hostfs.Root, dev string, ephemeral []string) (d Device, partition string, ok bool) {
	link := root.Path("/sys/dev/block/" + dev)
	target, err := filepath.EvalSymlinks(link)
	if err != nil {
		return Device{}, "", false
	}
	name := filepath.Base(target)
	if _, err := os.Stat(filepath.Join(target, "partition")); err == nil {
		partition = name
		name = filepath.Base(filepath.Dir(target))
	}
	d = Device{Name: name, Model: readModel(root, name)}
	switch {
	case d.Model == ModelInstanceStore:
		d.Why = "nvme model"
	case strings.HasPrefix(name, "nvme"):
		// EBS or unknown NVMe: never instance store.
	default:
		for i, hint := range ephemeral {
			for _, n := range xenNames(hint) {
				if n == name {
					d.Why = fmt.Sprintf("imds ephemeral%d", i)
				}
			}
		}
	}
	return d, partition, true
}
