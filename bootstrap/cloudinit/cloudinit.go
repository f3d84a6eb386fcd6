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

	"go.yaml.in/yaml/v3"

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
	// Ignored has one warning for each file cloud-init ignores as a whole
	// because it cannot read it as YAML (see Parse).
	Ignored []string
	// top-level keys, each with the file that set it last.
	values map[string]any
	nodes  map[string]*yaml.Node
	from   map[string]string
}

// Load reads cloud.cfg, then cloud.cfg.d/*.cfg in lexical order, then this
// instance's user-data cloud-config, each top-level key of a later file
// replacing the earlier one, as cloud-init's merge does for the keys read
// here (lists are not appended). A file Parse refuses is left out as a
// whole, as cloud-init leaves it out, with a warning in Ignored. Only a file
// that cannot be read at all is an error.
func Load(root hostfs.Root) (*Config, error) {
	c := &Config{values: map[string]any{}, nodes: map[string]*yaml.Node{}, from: map[string]string{}}
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
		doc, nodes, err := parse(data)
		if err != nil {
			c.Ignored = append(c.Ignored, fmt.Sprintf(
				"cloud-init config %s is not YAML cloud-init can read (%v): cloud-init ignores the whole file, and so does this check", name, err))
			continue
		}
		c.Files = append(c.Files, name)
		for k, v := range doc {
			c.values[k] = v
			c.nodes[k] = nodes[k]
			c.from[k] = name
		}
	}
	return c, nil
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
