package config

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// TemplateDir is where a relative template source is looked up.
const TemplateDir = "/etc/ec2boot"

// ShippedTemplateDir holds the templates the package installs; a relative
// source not found under TemplateDir is looked up there.
const ShippedTemplateDir = "/usr/share/ec2boot/templates"

// Template renders one application config file from facts, peers and vars.
type Template struct {
	// Source is the template file; a relative path is under TemplateDir.
	Source      string `toml:"source"`
	Destination string `toml:"destination"`
	// Mode is an octal string such as "0644".
	Mode  string `toml:"mode"`
	Owner string `toml:"owner"`
	Group string `toml:"group"`
	// Check is a command (argv, no shell) run on the staged file before it
	// replaces the real one; "{{staged}}" in an argument is the staged path.
	Check []string `toml:"check"`
	// Reload and Restart name systemd units to reload or restart after a change.
	Reload  []string `toml:"reload"`
	Restart []string `toml:"restart"`
	// Command is run (argv, no shell) after a change.
	Command []string `toml:"command"`
	// Timeout bounds Check and Command.
	Timeout Duration `toml:"timeout"`
	// RenderTimeout and MaxSize bound the template's execution: its time
	// and the bytes it writes. They stop runaway templates, not real ones.
	RenderTimeout Duration `toml:"render_timeout"`
	MaxSize       Size     `toml:"max_size"`
}

// The defaults of RenderTimeout and MaxSize: no sane config file takes
// seconds to render or is megabytes long.
const (
	DefaultRenderTimeout = 5 * time.Second
	DefaultMaxSize       = Size(16 << 20)
)

// SourcePath returns Source as an absolute host path (a relative one under
// TemplateDir).
func (t *Template) SourcePath() string {
	if isAbs(t.Source) {
		return t.Source
	}
	return path.Join(TemplateDir, t.Source)
}

// SourcePaths returns where to look for the template, first match wins: an
// absolute Source as it is; a relative one under TemplateDir (the
// operator's own), then under ShippedTemplateDir (the package's examples).
func (t *Template) SourcePaths() []string {
	if isAbs(t.Source) {
		return []string{t.Source}
	}
	return []string{path.Join(TemplateDir, t.Source), path.Join(ShippedTemplateDir, t.Source)}
}

// FileMode returns Mode parsed, or 0644.
func (t *Template) FileMode() uint32 {
	m, err := strconv.ParseUint(t.Mode, 8, 32)
	if err != nil || t.Mode == "" {
		return 0o644
	}
	return uint32(m)
}

type templateList struct{ list *[]Template }

func (l templateList) setDefaults() {
	for i := range *l.list {
		t := &(*l.list)[i]
		if t.Timeout.Duration == 0 {
			t.Timeout.Duration = 30 * time.Second
		}
		if t.RenderTimeout.Duration == 0 {
			t.RenderTimeout.Duration = DefaultRenderTimeout
		}
		if t.MaxSize == 0 {
			t.MaxSize = DefaultMaxSize
		}
	}
}

func (l templateList) validate(v *validator) {
	dest := map[string]int{}
	for i, t := range *l.list {
		p := fmt.Sprintf("templates[%d]", i)
		if t.Source == "" {
			v.errorf(p+".source", "missing")
		}
		if !isAbs(t.Destination) {
			v.errorf(p+".destination", "must be an absolute path, got %q", t.Destination)
		} else if j, dup := dest[t.Destination]; dup {
			v.errorf(p+".destination", "%s is also the destination of templates[%d]", t.Destination, j)
		} else {
			dest[t.Destination] = i
		}
		for _, a := range []struct {
			key  string
			argv []string
		}{{"check", t.Check}, {"command", t.Command}} {
			if len(a.argv) > 0 && strings.TrimSpace(a.argv[0]) == "" {
				v.errorf(p+"."+a.key, "the program (first element) is empty")
			}
		}
		for _, u := range []struct {
			key   string
			units []string
		}{{"reload", t.Reload}, {"restart", t.Restart}} {
			for j, name := range u.units {
				if name == "" || strings.ContainsAny(name, " /\t\n") {
					v.errorf(fmt.Sprintf("%s.%s[%d]", p, u.key, j), "%q is not a systemd unit name", name)
				}
			}
		}
		for _, o := range []struct{ key, val string }{{"owner", t.Owner}, {"group", t.Group}} {
			if strings.ContainsAny(o.val, ": \t") {
				v.errorf(p+"."+o.key, "%q is not a user or group name or number", o.val)
			}
		}
		if t.Mode != "" {
			if m, err := strconv.ParseUint(t.Mode, 8, 32); err != nil || m > 0o7777 {
				v.errorf(p+".mode", "%q is not an octal file mode such as \"0644\"", t.Mode)
			}
		}
	}
}
