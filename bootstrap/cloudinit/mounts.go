package cloudinit

import (
	"fmt"
	"path/filepath"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// ephemeral is cloud-init's name for the first instance-store volume.
const ephemeral = "ephemeral0"

// Mount is one entry of cloud-init's mounts list that it would act on.
type Mount struct {
	Device     string // fs_spec as written: "ephemeral0", "/dev/xvdb", ...
	MountPoint string
	// Default is true for cloud-init's built-in ephemeral0 entry, which it
	// adds when the configuration does not mention ephemeral0 at all.
	Default bool
}

// Mounts works out which mounts cc_mounts would write to fstab, following
// its handle(): entries that are not lists are skipped, "ephemeral" means
// ephemeral0, an entry whose mount point is null cancels the earlier
// entries for the same device, and the default ephemeral0 -> /mnt entry is
// added unless some entry names ephemeral0. Device names are not resolved
// (that needs the metadata service), so an entry for a device that does not
// exist on the instance is still listed.
func (c *Config) Mounts() []Mount {
	v, _, _ := c.Value("mounts")
	list, _ := v.([]any)
	type entry struct {
		dev   string
		point *string
	}
	var entries []entry
	for _, raw := range list {
		fields, ok := raw.([]any)
		if !ok || len(fields) == 0 || fields[0] == nil {
			continue
		}
		e := entry{dev: scalar(fields[0])}
		if e.dev == "ephemeral" {
			e.dev = ephemeral
		}
		if len(fields) > 1 && fields[1] != nil {
			p := scalar(fields[1])
			e.point = &p
		} else {
			for j := range entries {
				if entries[j].dev == e.dev {
					entries[j].point = nil
				}
			}
		}
		entries = append(entries, e)
	}
	var mounts []Mount
	hasEphemeral := false
	for _, e := range entries {
		hasEphemeral = hasEphemeral || e.dev == ephemeral
		if e.point != nil {
			mounts = append(mounts, Mount{Device: e.dev, MountPoint: *e.point})
		}
	}
	if !hasEphemeral {
		mounts = append(mounts, Mount{Device: ephemeral, MountPoint: "/mnt", Default: true})
	}
	return mounts
}

// MountConflict returns a warning when cloud-init would mount the instance
// store itself, or anything at mountPoint (ec2boot's relocate.mount_point),
// and "" when it would not. cloud-init mounts late (its fstab lines carry
// _netdev and wait for cloud-init.service), after ec2boot-early has already
// put the instance store in place, and it rewrites its fstab lines at every
// boot.
func (c *Config) MountConflict(mountPoint string) string {
	if !c.Active() {
		return ""
	}
	on, file := c.ModuleEnabled("mounts")
	if !on {
		return ""
	}
	want := filepath.Clean(mountPoint)
	for _, m := range c.Mounts() {
		if m.Device != ephemeral && filepath.Clean(m.MountPoint) != want {
			continue
		}
		where := "its built-in default"
		if !m.Default {
			_, where, _ = c.Value("mounts")
		}
		what := fmt.Sprintf("the instance store (%s) at %s", m.Device, m.MountPoint)
		if m.Device != ephemeral {
			what = fmt.Sprintf("%s at %s", m.Device, m.MountPoint)
		}
		return fmt.Sprintf("cloud-init's mounts module (enabled in %s) mounts %s (%s), after the network is up and again at every boot; "+
			"ec2boot manages the instance store at %s itself: turn cloud-init's mount off with \"mounts: [[%s]]\" (no mount point) in %s",
			file, what, where, want, m.Device, filepath.Join(ConfigDir, "99-ec2boot.cfg"))
	}
	return ""
}

func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// MountWarning is MountConflict for a step's plan: it loads cloud-init's
// configuration under root and returns the warnings, none when cloud-init
// leaves the instance store alone: a file cloud-init ignores (its mounts
// setting with it), and the conflict. A configuration it cannot read is a
// warning too, since it may well mount the instance store.
func MountWarning(root hostfs.Root, mountPoint string) []string {
	c, err := Load(root)
	if err != nil {
		return []string{fmt.Sprintf("cannot tell whether cloud-init mounts the instance store: %v", err)}
	}
	return c.Warnings(c.MountConflict(mountPoint))
}

// Warnings returns the files cloud-init would ignore followed by the
// non-empty ones of more, or nothing when cloud-init is not active.
func (c *Config) Warnings(more ...string) []string {
	if !c.Active() {
		return nil
	}
	w := append([]string(nil), c.Ignored...)
	for _, m := range more {
		if m != "" {
			w = append(w, m)
		}
	}
	return w
}
