package config

import (
	"fmt"
	"strings"
)

// Relocate moves growing directories onto the instance store.
type Relocate struct {
	Enabled *bool `toml:"enabled"`
	// MountPoint is where the instance store is (or gets) mounted.
	MountPoint string `toml:"mount_point"`
	// Format creates a filesystem on a blank instance store device. Off by
	// default; never touches a device that is not instance store or that
	// carries any filesystem signature.
	Format     bool     `toml:"format"`
	Filesystem string   `toml:"filesystem"`
	Paths      []string `toml:"paths"`
	// Reclaim deletes the hidden originals after a verified copy.
	Reclaim bool `toml:"reclaim"`
	// OpenFiles says what to do about processes still writing to the hidden
	// originals: "report" or "restart".
	OpenFiles string `toml:"open_files"`
	// Reopen tells, per process name, how to make a writer reopen its files
	// when open_files = "restart". journald and rsyslogd are known without
	// an entry; an entry for them replaces the built-in action.
	Reopen []Reopen `toml:"reopen"`
}

// Reopen is how one kind of process is told to reopen its log files: a
// signal sent to each such process, or a command run once.
type Reopen struct {
	// Process is the name in /proc/PID/comm (at most 15 characters).
	Process string `toml:"process"`
	// Signal is a signal name like "HUP" or "USR1".
	Signal string `toml:"signal"`
	// Command is run without a shell, e.g. ["systemctl", "restart", "nginx"].
	Command []string `toml:"command"`
}

// ReopenSignals are the signals relocate.reopen[].signal accepts.
var ReopenSignals = []string{"HUP", "USR1", "USR2", "TERM", "INT", "QUIT"}

// IsEnabled reports whether relocation runs (default true: it does nothing
// without an instance store).
func (s *Relocate) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

func (s *Relocate) setDefaults() {
	if s.MountPoint == "" {
		s.MountPoint = "/mnt"
	}
	if s.Filesystem == "" {
		s.Filesystem = "ext4"
	}
	if s.Paths == nil {
		s.Paths = []string{"/var/log", "/var/tmp", "/tmp"}
	}
	if s.OpenFiles == "" {
		s.OpenFiles = "report"
	}
}

func (s *Relocate) validate(v *validator) {
	if !isAbs(s.MountPoint) || s.MountPoint == "/" {
		v.errorf("relocate.mount_point", "must be an absolute path other than /, got %q", s.MountPoint)
	}
	if !oneOf(s.Filesystem, []string{"ext4", "xfs"}) {
		v.errorf("relocate.filesystem", "%q is not one of ext4, xfs", s.Filesystem)
	}
	if !oneOf(s.OpenFiles, []string{"report", "restart"}) {
		v.errorf("relocate.open_files", "%q is not one of report, restart", s.OpenFiles)
	}
	for i, r := range s.Reopen {
		key := fmt.Sprintf("relocate.reopen[%d]", i)
		if r.Process == "" || len(r.Process) > 15 || strings.ContainsAny(r.Process, "/\x00") {
			v.errorf(key+".process", "must be a process name of 1 to 15 characters as in /proc/PID/comm, got %q", r.Process)
		}
		switch {
		case (r.Signal == "") == (len(r.Command) == 0):
			v.errorf(key, "set exactly one of signal and command")
		case r.Signal != "" && !oneOf(strings.TrimPrefix(r.Signal, "SIG"), ReopenSignals):
			v.errorf(key+".signal", "%q is not one of %s", r.Signal, strings.Join(ReopenSignals, ", "))
		case len(r.Command) > 0 && r.Command[0] == "":
			v.errorf(key+".command", "the program name is empty")
		}
	}
	for i, p := range s.Paths {
		key := fmt.Sprintf("relocate.paths[%d]", i)
		switch {
		case !isAbs(p) || p == "/":
			v.errorf(key, "must be an absolute path other than /, got %q", p)
		case isUnder(p, s.MountPoint) || isUnder(s.MountPoint, p):
			v.errorf(key, "%s overlaps the mount point %s", p, s.MountPoint)
		}
	}
}
