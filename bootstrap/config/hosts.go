package config

// Hosts configures the managed block in /etc/hosts.
type Hosts struct {
	// Enabled defaults to true; set false to leave /etc/hosts alone.
	Enabled *bool  `toml:"enabled"`
	Path    string `toml:"path"`
	// Self maps this instance's own record names to its own addresses.
	Self *bool `toml:"self"`
}

// IsEnabled reports whether /etc/hosts is managed.
func (s *Hosts) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// IncludeSelf reports whether the instance's own names go in the block.
func (s *Hosts) IncludeSelf() bool { return s.Self == nil || *s.Self }

func (s *Hosts) setDefaults() {
	if s.Path == "" {
		s.Path = "/etc/hosts"
	}
}

func (s *Hosts) validate(v *validator) {
	if !isAbs(s.Path) {
		v.errorf("hosts.path", "must be an absolute path, got %q", s.Path)
	}
}
