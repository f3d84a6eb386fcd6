package config

import "fmt"

// DiskGuard watches how full the root partition and the instance store are.
type DiskGuard struct {
	// WarnPercent is the usage past which a run reports "degraded".
	WarnPercent int      `toml:"warn_percent"`
	Paths       []string `toml:"paths"`
}

func (s *DiskGuard) setDefaults() {
	if s.WarnPercent == 0 {
		s.WarnPercent = 85
	}
	if s.Paths == nil {
		s.Paths = []string{"/", "/mnt"}
	}
}

func (s *DiskGuard) validate(v *validator) {
	if s.WarnPercent < 1 || s.WarnPercent > 100 {
		v.errorf("disk.warn_percent", "must be between 1 and 100, got %d", s.WarnPercent)
	}
	for i, p := range s.Paths {
		if !isAbs(p) {
			v.errorf(fmt.Sprintf("disk.paths[%d]", i), "must be an absolute path, got %q", p)
		}
	}
}
