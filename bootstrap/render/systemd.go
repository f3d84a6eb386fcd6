package render

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Systemd is Units through systemctl, which waits for the job and says why
// it failed. systemctl rather than a D-Bus library of our own: it is on
// every machine that has systemd, it speaks to PID 1 over its private
// socket, and the D-Bus libraries cost a megabyte of the binary (their
// reflection keeps every exported method of every type in it).
//
// A unit that is not running is left alone: it reads its files when it
// starts. That also matters at boot: a service ordered After=ec2boot.service
// has a start job queued behind this very run, and a reload or restart
// would merge with that job and wait for it, that is, for ever.
type Systemd struct {
	// Timeout bounds each systemctl call (default 90 s, systemd's own
	// default job timeout).
	Timeout time.Duration
	// Systemctl is the program to run (default "systemctl").
	Systemctl string
}

// Reload implements Units.
func (s *Systemd) Reload(ctx context.Context, unit string) error {
	return s.job(ctx, "reload", unit)
}

// Restart implements Units.
func (s *Systemd) Restart(ctx context.Context, unit string) error {
	return s.job(ctx, "restart", unit)
}

func (s *Systemd) job(ctx context.Context, verb, unit string) error {
	out, err := s.systemctl(ctx, "show", "--property=LoadState,ActiveState", "--", unit)
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, unit, err)
	}
	props := parseProperties(out)
	switch props["LoadState"] {
	case "loaded":
	case "not-found":
		return fmt.Errorf("%s %s: no such unit", verb, unit)
	default:
		return fmt.Errorf("%s %s: unit is %s", verb, unit, orUnknown(props["LoadState"]))
	}
	switch props["ActiveState"] {
	case "active", "reloading":
	default:
		return nil // not running: it reads the new file when it starts
	}
	if _, err := s.systemctl(ctx, verb, "--no-ask-password", "--", unit); err != nil {
		return fmt.Errorf("%s %s: %w", verb, unit, err)
	}
	return nil
}

// systemctl runs systemctl with args and returns its standard output; an
// error carries what it printed on standard error.
func (s *Systemd) systemctl(ctx context.Context, args ...string) (string, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	prog := s.Systemctl
	if prog == "" {
		prog = "systemctl"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("systemctl %s: no answer within %s", args[0], timeout)
	}
	if err != nil {
		// What systemctl printed says why, on one line like a command's.
		return "", fmt.Errorf("systemctl %s: %w%s", args[0], err, stderr.suffix())
	}
	return stdout.String(), nil
}

// parseProperties reads systemctl show's KEY=VALUE lines.
func parseProperties(out string) map[string]string {
	props := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "=")
		if ok {
			props[k] = v
		}
	}
	return props
}

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}
