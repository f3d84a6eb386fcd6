package atomicfile

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bootstrap/mountinfo"
)

// IsMountPoint reports whether path is itself a mount point, as a
// bind-mounted single file is. A bind-mounted file usually has the same
// st_dev as its directory, so that comparison proves nothing; the kernel
// says it directly with STATX_ATTR_MOUNT_ROOT, or through differing mount
// ids. Kernels too old for either fall back to /proc/self/mountinfo.
func IsMountPoint(path string) (bool, error) {
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_MNT_ID, &stx)
	if errors.Is(err, unix.ENOSYS) {
		return mountinfoHas(path)
	}
	if err != nil {
		return false, fmt.Errorf("statx %s: %w", path, err)
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
	}
	if stx.Mask&unix.STATX_MNT_ID != 0 {
		var parent unix.Statx_t
		dir := filepath.Dir(path)
		if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID, &parent); err != nil {
			return false, fmt.Errorf("statx %s: %w", dir, err)
		}
		if parent.Mask&unix.STATX_MNT_ID != 0 {
			return parent.Mnt_id != stx.Mnt_id, nil
		}
	}
	return mountinfoHas(path)
}

// mountinfoHas looks for path among the mount points of our namespace.
func mountinfoHas(path string) (bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	table, err := mountinfo.Self()
	if err != nil {
		return false, err
	}
	return len(table.At(abs)) > 0, nil
}
