// Package hostfs maps the absolute paths ec2boot reads and writes onto an
// alternative root directory, so that tests, the demo and image builds can
// run the whole agent against a directory tree instead of the live system.
package hostfs

import (
	"path/filepath"
	"strings"
)

// Root is the directory that stands for "/". The zero value and "/" both mean
// the real root.
type Root string

// Path returns the host path p (absolute, as written in config and docs)
// located under the root. Relative paths are taken as relative to "/".
func (r Root) Path(p string) string {
	clean := filepath.Clean("/" + p)
	if r == "" || r == "/" {
		return clean
	}
	return filepath.Join(string(r), clean)
}

// Rel strips the root from a path produced by Path, giving back the host
// path for messages. Paths outside the root are returned unchanged.
func (r Root) Rel(p string) string {
	if r == "" || r == "/" {
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
