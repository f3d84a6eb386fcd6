package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// copyXattrs copies every extended attribute of the old file (the SELinux
// label security.selinux, POSIX ACLs, user.* attributes) onto the new one
// before the rename, so the replacement never shows up with the directory's
// default label. Attributes the kernel will not let us set in the security,
// trusted and system namespaces are skipped: without SELinux or the needed
// capability there is nothing we could do about them, while failing to copy
// a user.* attribute is an error.
func copyXattrs(from string, to *os.File) error {
	names, err := listXattrs(from)
	if err != nil {
		if isUnsupported(err) {
			return nil
		}
		return fmt.Errorf("list extended attributes: %w", err)
	}
	for _, name := range names {
		val, err := getXattr(from, name)
		if err != nil {
			if errors.Is(err, unix.ENODATA) {
				continue
			}
			return fmt.Errorf("read extended attribute %s: %w", name, err)
		}
		if err := unix.Fsetxattr(int(to.Fd()), name, val, 0); err != nil {
			if !strings.HasPrefix(name, "user.") && (isUnsupported(err) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
				continue
			}
			return fmt.Errorf("set extended attribute %s: %w", name, err)
		}
	}
	return nil
}

func isUnsupported(err error) bool {
	return errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP)
}

func listXattrs(path string) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Llistxattr(path, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
}

func getXattr(path, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(path, name, buf)
		if errors.Is(err, unix.ERANGE) {
			if len(buf) > 1<<20 {
				return nil, err
			}
			buf = make([]byte, len(buf)*8)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}
