// Package hostfs maps the absolute paths ec2boot reads and writes onto an
// alternative root directory, so that tests, the demo and image builds can
// run the whole agent against a directory tree instead of the live system.
//
// It is the one place that resolves paths: a symbolic link met on the way is
// followed as if the root were "/" (an absolute target starts again at the
// root, ".." never climbs above it), so nothing ec2boot opens under --root
// lies outside it. Writers ask Dest, which also applies the link rule (see
// links.go).
package hostfs

import (
	"path/filepath"
	"strings"
)

// Root is the directory that stands for "/". The zero value and "/" both mean
// the real root.
type Root string

// Path returns the host path p (absolute, as written in config and docs)
// resolved inside the root, the way open(2) would resolve it if the root
// were "/": every symbolic link on the way, the last component's included,
// is followed within the root. Relative paths are taken as relative to "/".
// On the real root the kernel already resolves that way and Path only
// cleans p.
func (r Root) Path(p string) string {
	if r.IsReal() {
		return filepath.Clean("/" + p)
	}
	res, err := r.resolve(p, true)
	if err != nil {
		return r.join(p)
	}
	return res.Real
}

// Lpath is Path without following a link in the last component, as
// lstat(2) sees it: for callers that look at the link itself.
func (r Root) Lpath(p string) string {
	if r.IsReal() {
		return filepath.Clean("/" + p)
	}
	res, err := r.resolve(p, false)
	if err != nil {
		return r.join(p)
	}
	return res.Real
}

// Device returns the device node /dev/... under the root without resolving
// links: device nodes are the kernel's, not files of the tree, and a tree
// built for tests or an image stands for a device with a link to a real
// node (a loop device). ec2boot formats and mounts devices; it never writes
// files through these paths.
func (r Root) Device(p string) string { return r.join(p) }

// join places host path p under the root without resolving anything.
func (r Root) join(p string) string {
	clean := filepath.Clean("/" + p)
	if r.IsReal() {
		return clean
	}
	return filepath.Join(string(r), clean)
}

// Rel strips the root from a path produced by Path, giving back the host
// path for messages. Paths outside the root are returned unchanged.
func (r Root) Rel(p string) string {
	if r.IsReal() {
		return p
	}
	rest, ok := strings.CutPrefix(p, string(r))
	if !ok || (rest != "" && rest[0] != '/') {
		return p
	}
	if rest == "" {
		return "/"
	}
	return rest
}

// IsReal reports whether the root is the machine's own "/".
func (r Root) IsReal() bool { return r == "" || r == "/" }
