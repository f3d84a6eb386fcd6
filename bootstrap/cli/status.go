package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/run"
)

// Status is `ec2boot status [--json]`: the last run's result from the
// runtime directory, and what each step remembers in the state directory.
// Its exit code is the last run's.
func Status(ctx context.Context, g *Globals, asJSON bool) int {
	rep, err := run.ReadReport(g.root())
	if err != nil {
		g.Log.Error().Msg(err.Error())
		return ExitStepFailed
	}
	sections, err := stateStatus(g)
	if err != nil {
		g.Log.Warn().Msg(err.Error())
	}
	if asJSON {
		out := map[string]any{"last_run": rep}
		for _, s := range sections {
			out[s.name] = s.data
		}
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		printReport(g.Stdout, rep)
		for _, s := range sections {
			fmt.Fprintf(g.Stdout, "\n%s:\n", s.title)
			s.print(g.Stdout)
		}
	}
	if rep == nil {
		return ExitOK
	}
	return rep.ExitCode
}

// statusSection is one step's view of its state for `status`.
type statusSection struct {
	name, title string
	data        any
	print       func(io.Writer)
}

func printReport(w io.Writer, rep *run.Report) {
	if rep == nil {
		fmt.Fprintln(w, "no run since boot")
		return
	}
	fmt.Fprintf(w, "last %s: %s at %s (exit %d, %.0f ms)", rep.Command, rep.Outcome,
		rep.StartedAt.Local().Format("2006-01-02 15:04:05 MST"), rep.ExitCode, float64(rep.Duration)/1e6)
	if rep.InstanceID != "" {
		fmt.Fprintf(w, " on %s", rep.InstanceID)
	}
	fmt.Fprintln(w)
	if rep.Message != "" {
		fmt.Fprintf(w, "  %s\n", rep.Message)
	}
	for _, p := range rep.Config {
		fmt.Fprintf(w, "  config: %s\n", p)
	}
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "  %-9s %-9s %6.1f ms", s.Name, s.Status, float64(s.Duration)/1e6)
		if s.Error != "" {
			fmt.Fprintf(w, "  %s", s.Error)
		}
		fmt.Fprintln(w)
		for _, line := range append(append([]string{}, s.Changed...), s.Degraded...) {
			fmt.Fprintf(w, "            %s\n", strings.TrimSpace(line))
		}
	}
	if len(rep.Peers) > 0 {
		fmt.Fprintln(w, "  peers:")
		for _, r := range rep.Peers {
			fmt.Fprintf(w, "    %s: %d", r.Role, r.Peers)
			if r.Stale > 0 {
				fmt.Fprintf(w, ", %d stale (the oldest since %s)", r.Stale, r.OldestStaleSince.Local().Format("2006-01-02 15:04:05 MST"))
			}
			if r.Missing > 0 {
				fmt.Fprintf(w, ", %d missing", r.Missing)
			}
			fmt.Fprintln(w)
		}
	}
	if len(rep.Relocation) > 0 {
		fmt.Fprintln(w, "  relocation:")
		for _, st := range rep.Relocation {
			if st.Relocated {
				fmt.Fprintf(w, "    %s: on the instance store\n", st.Path)
			} else {
				fmt.Fprintf(w, "    %s: not relocated: %s\n", st.Path, st.Reason)
			}
		}
	}
	if len(rep.Disk) > 0 {
		fmt.Fprintln(w, "  disk usage after the run:")
		for _, u := range rep.Disk {
			fmt.Fprintf(w, "    %s\n", u.Line())
		}
	}
}
