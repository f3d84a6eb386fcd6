// Package prepareimage is `ec2boot prepare-image`: it makes a machine safe to
// turn into an AMI. It removes what ec2boot itself cached about this
// instance (state, user-data, facts, runtime files), so that every instance
// launched from the image starts fresh, and reports what it does not own but
// what would leak into every clone (cloud-init's instance data, a shared
// machine-id, credentials) or silently be missing from the image (data on the
// instance store, in bind-mounted or bundling-excluded directories).
//
// It is dry by default. Every path goes through the root, so the whole
// inspection runs against a directory tree in tests.
package prepareimage

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// Kind classifies an item of the report.
type Kind string

// The kinds of item.
const (
	// Remove is ec2boot's own data about this instance; --apply deletes it.
	Remove Kind = "remove"
	// Leak would be copied into every instance launched from the image. It
	// belongs to something else, so it is reported with the fix, and it
	// keeps the image from being reported clean.
	Leak Kind = "leak"
	// Note is worth knowing but is not wrong in itself: data that will not
	// be in the image, credentials baked in on purpose.
	Note Kind = "note"
)

// Item is one line of the report.
type Item struct {
	Kind Kind   `json:"kind"`
	Path string `json:"path"` // host path, as the operator sees it
	What string `json:"what"`
	Fix  string `json:"fix,omitempty"`
	// Done is set on Remove items once Apply deleted them.
	Done bool `json:"done,omitempty"`
}

// Report is the outcome of an inspection, and of Apply.
type Report struct {
	Applied bool   `json:"applied"`
	Items   []Item `json:"items"`
}

// Clean reports whether the image is safe to make now: nothing left for
// Apply to remove and no leak. Notes do not count.
func (r *Report) Clean() bool {
	for _, it := range r.Items {
		if it.Kind == Leak || (it.Kind == Remove && !it.Done) {
			return false
		}
	}
	return true
}

// Write prints the report for the operator, one item per line with its fix
// indented below.
func (r *Report) Write(w io.Writer) {
	if r.Applied {
		fmt.Fprintln(w, "prepare-image: cleaned")
	} else {
		fmt.Fprintln(w, "prepare-image: dry run, nothing changed (--apply removes ec2boot's own data)")
	}
	if len(r.Items) == 0 {
		fmt.Fprintln(w, "nothing to remove, nothing leaks: the image is safe to make")
		return
	}
	for _, it := range r.Items {
		label := string(it.Kind)
		switch {
		case it.Kind == Remove && it.Done:
			label = "removed"
		case it.Kind == Remove:
			label = "would remove"
		}
		fmt.Fprintf(w, "%-13s %s: %s\n", label, it.Path, it.What)
		if it.Fix != "" {
			fmt.Fprintf(w, "%-13s   fix: %s\n", "", it.Fix)
		}
	}
	if r.Clean() {
		fmt.Fprintln(w, "the image is safe to make (notes above are for information)")
	} else {
		fmt.Fprintln(w, "the image is NOT safe to make yet")
	}
}

// Options says what to inspect.
type Options struct {
	Root hostfs.Root
	// MountPoint is relocate.mount_point: where the instance store is.
	MountPoint string
	// Relocated are relocate.paths: directories ec2boot moves onto the
	// instance store with bind mounts.
	Relocated []string
	// ConfigPath is the local config file (host path), for its credentials.
	ConfigPath string
	// InlineSecrets names the config keys that hold a password inline, and
	// SecretFiles the password files the config points to; the caller reads
	// them from the loaded configuration.
	InlineSecrets []string
	SecretFiles   []string
	// CloudInitMounts are cloud-init's warnings: files it ignores, and the
	// instance-store conflict (cloudinit.Config.MountConflict).
	CloudInitMounts []string
}

// Inspect looks at the machine and changes nothing.
func Inspect(opts Options) (*Report, error) {
	r := &Report{}
	for _, check := range []func(Options) ([]Item, error){
		ownData, cloudInitData, cloudInitFstab, machineID, loginTraces, instanceStore, excludedDirs, userSecrets,
	} {
		items, err := check(opts)
		if err != nil {
			return nil, err
		}
		r.Items = append(r.Items, items...)
	}
	for _, w := range opts.CloudInitMounts {
		r.Items = append(r.Items, Item{Kind: Note, Path: "/etc/cloud", What: w})
	}
	sort.SliceStable(r.Items, func(i, j int) bool { return kindOrder(r.Items[i].Kind) < kindOrder(r.Items[j].Kind) })
	return r, nil
}

// Apply deletes the Remove items. It goes on after a failure, so that one
// unremovable file does not leave the rest behind, and returns the first
// error; the report then shows which items are done.
func (r *Report) Apply(root hostfs.Root) error {
	r.Applied = true
	var first error
	for i := range r.Items {
		it := &r.Items[i]
		if it.Kind != Remove || it.Done {
			continue
		}
		// RemoveAll removes a symlink itself, never what it points to.
		if err := os.RemoveAll(root.Lpath(it.Path)); err != nil {
			if first == nil {
				first = fmt.Errorf("removing %s: %w", it.Path, err)
			}
			continue
		}
		it.Done = true
	}
	return first
}

func kindOrder(k Kind) int {
	switch k {
	case Remove:
		return 0
	case Leak:
		return 1
	}
	return 2
}

// plural formats "1 file" / "3 files".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
