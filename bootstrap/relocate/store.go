package relocate

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
)

// storeAction is what must happen before the instance store is usable.
type storeAction int

const (
	storeNone   storeAction = iota // no usable instance store: do nothing
	storeReady                     // mounted at the mount point already
	storeMount                     // has a filesystem: mount it
	storeFormat                    // blank, format allowed: mkfs, then mount
)

// storeDecision is what Plan found out about the instance store.
type storeDecision struct {
	action storeAction
	// reason explains storeNone (one info line).
	reason string
	// warn is set when storeNone hides something the operator should fix
	// (a device we refused to format).
	warn   bool
	dev    Device
	fstype string
	// mount is the mount at the mount point (storeReady).
	mount mountinfo.Mount
	notes []string
}

// mountable are the filesystems an unmounted instance store may carry to be
// mounted as it is (Xen-era instance store came formatted ext3).
var mountable = map[string]bool{"ext2": true, "ext3": true, "ext4": true, "xfs": true}

// mkfsTimeout allows for discarding a multi-terabyte NVMe disk.
const mkfsTimeout = 10 * time.Minute

// label is the filesystem label given by mkfs (xfs allows 12 characters).
const label = "ec2boot-eph"

// decideStore works out where the instance store is. mp is the mount point
// under root.
func decideStore(ctx context.Context, root hostfs.Root, mp string, fsType string, format bool,
	ephemeral []string, tab mountinfo.Table) storeDecision {
	if m, ok := tab.Top(mp); ok {
		d, part, known := DeviceOf(root, m.Dev(), ephemeral)
		if !known || !d.InstanceStore() {
			what := m.FSType + " " + m.Source
			if known {
				what = fmt.Sprintf("%s (%s)", d.Name, orUnknown(d.Model))
			}
			return storeDecision{action: storeNone,
				reason: fmt.Sprintf("%s is mounted from %s, which is not instance store: nothing to relocate", root.Rel(mp), what)}
		}
		sd := storeDecision{action: storeReady, dev: d, mount: m, fstype: m.FSType}
		if part != "" {
			sd.notes = append(sd.notes, fmt.Sprintf("%s is partition %s of instance store %s", root.Rel(mp), part, d.Name))
		}
		return sd
	}
	devs, err := FindInstanceStores(root, ephemeral)
	if err != nil {
		return storeDecision{action: storeNone, warn: true, reason: err.Error()}
	}
	if len(devs) == 0 {
		return storeDecision{action: storeNone,
			reason: fmt.Sprintf("no instance store on this instance (%s stays on the root disk): nothing to relocate", root.Rel(mp))}
	}
	d := devs[0]
	sd := storeDecision{dev: d}
	if len(devs) > 1 {
		names := make([]string, len(devs))
		for i, x := range devs {
			names[i] = x.Name
		}
		sd.notes = append(sd.notes, fmt.Sprintf("%d instance store devices (%s): using the first, %s; the others are left alone (no striping)",
			len(devs), strings.Join(names, ", "), d.Name))
	}
	if why := inUse(root, d.Name, mountedDevices(root, tab, ephemeral)); len(why) > 0 {
		sd.action, sd.warn = storeNone, true
		sd.reason = fmt.Sprintf("instance store %s is in use (%s): not touching it", d.Name, strings.Join(why, ", "))
		return sd
	}
	sig := Probe(ctx, d.Path(root))
	switch {
	case mountable[sig.FSType]:
		// Ours from an earlier boot (the disk survives a reboot, the mount
		// does not), or formatted by the AMI's tooling: mounting changes
		// nothing on the disk.
		sd.action, sd.fstype = storeMount, sig.FSType
	case !sig.Blank:
		sd.action, sd.warn = storeNone, true
		sd.reason = fmt.Sprintf("instance store %s is not blank (%s): refusing to format or mount it", d.Name, sig)
	case !format:
		sd.action = storeNone
		sd.reason = fmt.Sprintf("instance store %s has no filesystem and relocate.format is off: nothing to relocate", d.Name)
	default:
		sd.action, sd.fstype = storeFormat, fsType
	}
	return sd
}

func orUnknown(s string) string {
	if s == "" {
		return "no model"
	}
	return s
}

// mountedDevices maps disk names to where they (or a partition) are mounted.
func mountedDevices(root hostfs.Root, tab mountinfo.Table, ephemeral []string) map[string]string {
	out := map[string]string{}
	for _, m := range tab {
		if d, _, ok := DeviceOf(root, m.Dev(), ephemeral); ok {
			if _, seen := out[d.Name]; !seen {
				out[d.Name] = m.MountPoint
			}
		}
	}
	return out
}

// prepareStore formats (if decided and still safe) and mounts the device.
// Every safety check is repeated right before mkfs: a plan can be stale.
func prepareStore(ctx context.Context, root hostfs.Root, mp string, sd *storeDecision, ephemeral []string) (string, error) {
	dev := sd.dev.Path(root)
	var did string
	if sd.action == storeFormat {
		if !stillInstanceStore(root, sd.dev, ephemeral) {
			return "", fmt.Errorf("%s no longer looks like instance store: not formatting it", sd.dev.Name)
		}
		if sig := Probe(ctx, dev); !sig.Blank {
			return "", fmt.Errorf("%s is not blank any more (%s): not formatting it", sd.dev.Name, sig)
		}
		tab, err := mountinfo.Self()
		if err != nil {
			return "", err
		}
		if why := inUse(root, sd.dev.Name, mountedDevices(root, tab, ephemeral)); len(why) > 0 {
			return "", fmt.Errorf("%s is in use (%s): not formatting it", sd.dev.Name, strings.Join(why, ", "))
		}
		// No -f/-F: mkfs itself refuses a device with a signature.
		args := []string{"-q", "-L", label, dev}
		if err := runCommand(ctx, mkfsTimeout, append([]string{"mkfs." + sd.fstype}, args...)); err != nil {
			return "", fmt.Errorf("format %s: %w", sd.dev.Name, err)
		}
		did = fmt.Sprintf("formatted instance store %s as %s; ", sd.dev.Name, sd.fstype)
	}
	if err := os.MkdirAll(mp, 0o755); err != nil {
		return "", fmt.Errorf("mount point %s: %w", root.Rel(mp), err)
	}
	if err := hostfs.MountOnto(dev, mp, sd.fstype, unix.MS_NODEV|unix.MS_NOSUID, ""); err != nil {
		return "", fmt.Errorf("mount %s (%s) at %s: %w", sd.dev.Name, sd.fstype, root.Rel(mp), err)
	}
	return did + fmt.Sprintf("mounted instance store %s at %s", sd.dev.Name, root.Rel(mp)), nil
}

func stillInstanceStore(root hostfs.Root, d Device, ephemeral []string) bool {
	devs, err := FindInstanceStores(root, ephemeral)
	if err != nil {
		return false
	}
	for _, x := range devs {
		if x.Name == d.Name {
			return true
		}
	}
	return false
}

// sameDisk reports whether a and b are on the same filesystem: relocating
// onto the root disk would move nothing and mislead the operator.
func sameDisk(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, fmt.Errorf("stat %s: %w", a, err)
	}
	if err := unix.Stat(b, &sb); err != nil {
		return false, fmt.Errorf("stat %s: %w", b, err)
	}
	return sa.Dev == sb.Dev, nil
}
