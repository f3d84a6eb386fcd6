package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
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
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	return mountinfoContains(bufio.NewScanner(f), abs)
}

func mountinfoContains(sc *bufio.Scanner, abs string) (bool, error) {
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if UnescapeMountPath(fields[4]) == abs {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read mountinfo: %w", err)
	}
	return false, nil
}

// UnescapeMountPath undoes the octal escapes (\040 for space and so on) that
// the kernel uses for paths in /proc/self/mountinfo.
func UnescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}
