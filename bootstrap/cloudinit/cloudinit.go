// Package cloudinit reads cloud-init's system configuration the way
// cloud-init merges it, so that ec2boot can tell when the two would fight
// over the same thing: the instance store mount (cc_mounts) and /etc/hosts
// (cc_update_etc_hosts). It only reads; it never runs cloud-init.
package cloudinit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// The files cloud-init reads, on the host.
const (
	MainConfig = "/etc/cloud/cloud.cfg"
	ConfigDir  = "/etc/cloud/cloud.cfg.d"
	// DisabledMarker stops cloud-init entirely (its generator checks it).
	DisabledMarker = "/etc/cloud/cloud-init.disabled"
	// UserConfig is this instance's #cloud-config from user-data, merged by
	// cloud-init at its last boot stage.
	UserConfig = "/var/lib/cloud/instance/cloud-config.txt"
)

// maxConfigSize bounds one file: cloud-init's own are a few KiB.
const maxConfigSize = 1 << 20

// Config is cloud-init's merged configuration, as far as ec2boot cares.
type Config struct {
	// Installed is false when there is no cloud.cfg: no cloud-init at all.
	Installed bool
	// Disabled is true when cloud-init.disabled is present.
	Disabled bool
	// Files lists the files read, in merge order.
	Files []string
	// top-level keys, each with the file that set it last.
	values map[string]any
	from   map[string]string
}

// Load reads cloud.cfg, then cloud.cfg.d/*.cfg in lexical order, then this
// instance's user-data cloud-config, each top-level key of a later file
// replacing the earlier one, as cloud-init's merge does for the keys read
// here (lists are not appended). A file whose keys read here are not valid
// YAML is an error naming it (see Parse).
func Load(root hostfs.Root) (*Config, error) {
	c := &Config{values: map[string]any{}, from: map[string]string{}}
	if _, err := os.Stat(root.Path(MainConfig)); errors.Is(err, fs.ErrNotExist) {
		return c, nil
	} else if err != nil {
		return nil, fmt.Errorf("cloud-init config %s: %w", MainConfig, err)
	}
	c.Installed = true
	if _, err := os.Lstat(root.Lpath(DisabledMarker)); err == nil {
		c.Disabled = true
	}
	files := []string{MainConfig}
	entries, err := os.ReadDir(root.Path(ConfigDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cloud-init config %s: %w", ConfigDir, err)
	}
	var dropins []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".cfg") && !e.IsDir() {
			dropins = append(dropins, filepath.Join(ConfigDir, e.Name()))
		}
	}
	sort.Strings(dropins)
	files = append(files, dropins...)
	files = append(files, UserConfig)
	for _, name := range files {
		data, err := readLimited(root.Path(name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cloud-init config %s: %w", name, err)
		}
		doc, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("cloud-init config %s: %w", name, err)
		}
		c.Files = append(c.Files, name)
		for k, v := range doc {
			c.values[k] = v
			c.from[k] = name
		}
	}
	return c, nil
}

// Parse reads one cloud-config document into its top-level keys, as
// cloud-init's yaml.safe_load (PyYAML, YAML 1.1) reads it: "yes" and "on"
// are true, 0755 is octal, 1e5 is a string. Mappings are map[string]any,
// lists []any, scalars nil, bool, int, float64 or string; a key that is
// not a string becomes its JSON text ("null", "true", "12"). An empty
// document is an empty map; a document whose top level is not a mapping
// is the error "top level is not a mapping".
//
// ec2boot reads only a few keys (mounts, manage_etc_hosts and the module
// lists), so only those have to be readable: a top-level entry that is
// broken, or that uses YAML this reader refuses (anchors, aliases, tags,
// complex "? " keys, merge keys), is left out of the map, unless its key
// is one of those, in which case Parse fails with "line N: what". A
// document that cannot be split into entries (a directive, a second
// document, a broken top-level flow mapping) fails as a whole.
func Parse(data []byte) (map[string]any, error) {
	doc, _, err := parseDocument(data)
	return doc, err
}

// Active reports whether cloud-init is installed and not disabled.
func (c *Config) Active() bool { return c.Installed && !c.Disabled }

// Value returns a top-level key and the file that set it.
func (c *Config) Value(key string) (v any, file string, ok bool) {
	v, ok = c.values[key]
	return v, c.from[key], ok
}

// ModuleEnabled reports whether a config module (e.g. "mounts") is listed in
// any of the three stages, and in which file that list was set.
func (c *Config) ModuleEnabled(name string) (bool, string) {
	for _, stage := range []string{"cloud_init_modules", "cloud_config_modules", "cloud_final_modules"} {
		list, _ := c.values[stage].([]any)
		for _, m := range list {
			// An entry is "name" or [name, frequency, args...].
			if l, ok := m.([]any); ok && len(l) > 0 {
				m = l[0]
			}
			s, ok := m.(string)
			if !ok {
				continue
			}
			if strings.TrimPrefix(s, "cc_") == name {
				return true, c.from[stage]
			}
		}
	}
	return false, ""
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("larger than %d bytes", maxConfigSize)
	}
	return data, nil
}
