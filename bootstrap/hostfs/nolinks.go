package hostfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLinkOnTheWay means a path that was resolved to be free of links has a
// link in it now: one was planted since, and is not followed.
var ErrLinkOnTheWay = errors.New("a symbolic link is on the way (not followed)")

// OpenNoLinks opens a resolved path (Resolved.Real) refusing a symbolic
// link in any of its components, so that what is opened is what was
// resolved. flags are open(2)'s; O_CLOEXEC is added.
func OpenNoLinks(path string, flags int) (*os.File, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		// Kernels before 5.6: the last component at least is not
		// followed; the resolution that produced path covers the rest.
		fd, err = unix.Open(path, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	}
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s: %w", path, ErrLinkOnTheWay)
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// MountOnto mounts source at the directory target, a resolved path, making
// sure the directory mounted on is the one resolved: it is opened refusing
// links on the way and the mount goes to that open directory.
func MountOnto(source, target, fstype string, flags uintptr, data string) error {
	d, err := OpenNoLinks(target, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Mount(source, fmt.Sprintf("/proc/self/fd/%d", d.Fd()), fstype, flags, data)
}
