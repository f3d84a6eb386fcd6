package render

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Units reloads and restarts systemd units. The real one is Systemd; tests
// inject a fake.
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

// pending is the render state: actions that must run even though no file
// changes, because they failed (or the run died) after their files changed.
type pending struct {
	Actions []Action `json:"actions"`
}

func (p pending) has(a Action) bool {
	return slices.ContainsFunc(p.Actions, func(b Action) bool { return b.Key() == a.Key() })
}
