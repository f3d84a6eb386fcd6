package render

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/dbus"
)

// Units reloads and restarts systemd units. The real one talks to systemd
// over D-Bus; tests inject a fake.
type Units interface {
	Reload(ctx context.Context, unit string) error
	Restart(ctx context.Context, unit string) error
}

// Action is one thing to do after files changed.
type Action struct {
	Kind    string        `json:"kind"` // "reload", "restart" or "command"
	Unit    string        `json:"unit,omitempty"`
	Argv    []string      `json:"argv,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Key identifies an action for deduplication.
func (a Action) Key() string {
	if a.Kind == "command" {
		return "command\x00" + strings.Join(a.Argv, "\x00")
	}
	return a.Kind + "\x00" + a.Unit
}

func (a Action) String() string {
	if a.Kind == "command" {
		return "run " + quoteArgv(a.Argv)
	}
	return a.Kind + " " + a.Unit
}

// dedupe keeps the first of identical actions, in order, and drops a
// reload of a unit that is also restarted (the restart reloads it anyway).
func dedupe(list []Action) []Action {
	var out []Action
	seen := map[string]bool{}
	restarted := map[string]bool{}
	for _, a := range list {
		if a.Kind == "restart" {
			restarted[a.Unit] = true
		}
	}
	for _, a := range list {
		if seen[a.Key()] || a.Kind == "reload" && restarted[a.Unit] {
			continue
		}
		seen[a.Key()] = true
		out = append(out, a)
	}
	return out
}

func run(ctx context.Context, a Action, units Units) error {
	switch a.Kind {
	case "reload":
		return units.Reload(ctx, a.Unit)
	case "restart":
		return units.Restart(ctx, a.Unit)
	case "command":
		return RunCommand(ctx, a.Argv, a.Timeout)
	}
	return fmt.Errorf("unknown action %q", a.Kind)
}

// Systemd is Units over D-Bus. It connects on first use, so a run with
// nothing to reload never talks to systemd.
type Systemd struct {
	// Timeout bounds each job.
	Timeout time.Duration
	conn    *dbus.Conn
}

// Reload implements Units.
func (s *Systemd) Reload(ctx context.Context, unit string) error {
	return s.job(ctx, "reload", unit, func(c *dbus.Conn, ch chan<- string) (int, error) {
		return c.ReloadUnitContext(ctx, unit, "replace", ch)
	})
}

// Restart implements Units.
func (s *Systemd) Restart(ctx context.Context, unit string) error {
	return s.job(ctx, "restart", unit, func(c *dbus.Conn, ch chan<- string) (int, error) {
		return c.RestartUnitContext(ctx, unit, "replace", ch)
	})
}

func (s *Systemd) job(ctx context.Context, verb, unit string, start func(*dbus.Conn, chan<- string) (int, error)) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if s.conn == nil {
		c, err := dbus.NewWithContext(ctx)
		if err != nil {
			return fmt.Errorf("%s %s: connect to systemd: %w", verb, unit, err)
		}
		s.conn = c
	}
	ch := make(chan string, 1)
	if _, err := start(s.conn, ch); err != nil {
		return fmt.Errorf("%s %s: %w", verb, unit, err)
	}
	select {
	case result := <-ch:
		if result != "done" {
			return fmt.Errorf("%s %s: job %s", verb, unit, result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s %s: no answer from systemd within %s", verb, unit, timeout)
	}
}

// Close releases the D-Bus connection.
func (s *Systemd) Close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// pending is the render state: actions that must run even though no file
// changes, because they failed (or the run died) after their files changed.
type pending struct {
	Actions []Action `json:"actions"`
}

func (p pending) has(a Action) bool {
	return slices.ContainsFunc(p.Actions, func(b Action) bool { return b.Key() == a.Key() })
}
