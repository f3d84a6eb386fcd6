// Package metrics turns a run's report and its DNS records (the data of
// `ec2boot status --json`) into Prometheus metrics in node_exporter's
// textfile-collector format, and writes them with the project's one writer.
//
// The families are built directly as client_model values (families.go) and
// encoded by expfmt into a buffer that atomicfile writes. client_golang is
// not imported: its prometheus package builds a default registry with the
// Go and process collectors in its init, on every start of the binary
// whether or not a run writes metrics, and links the registry with it.
package metrics

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/run"
)

// Outcomes are every value of the outcome label: the current one is 1, the
// others 0, so that a series exists before an outcome first happens.
var outcomes = []string{"ok", "invalid", "failed", "metadata-unreachable", "degraded", "locked", "interrupted", run.Unrecorded}

// stepStatuses are every value of a step's status label.
var stepStatuses = []string{"unchanged", "changed", "failed", "degraded", "interrupted", "skipped"}

// Record states, as the dns alerts use them.
const (
	StateRegistered   = "registered"   // the provider has (or DNS shows) the address
	StateUnregistered = "unregistered" // configured, never registered
	StateHeld         = "held"         // a hold-off: retried after next_attempt
	StateFailing      = "failing"      // a sticky error: no retry until fixed or --force
	StateConflicting  = "conflicting"  // another instance claims the name (repaired or yielded)
	StateForeign      = "foreign"      // state written by another instance
)

var recordStates = []string{StateRegistered, StateUnregistered, StateHeld, StateFailing, StateConflicting, StateForeign}

// RecordState classifies one record as `status` shows it.
func RecordState(r ddns.RecordStatus) string {
	switch {
	case r.Foreign:
		return StateForeign
	case r.Error != "" && r.NextAttempt.IsZero():
		return StateFailing
	case r.Error != "":
		return StateHeld
	case r.Conflict != nil:
		return StateConflicting
	case r.Addr.IsValid():
		return StateRegistered
	}
	return StateUnregistered
}

// Gather builds the metric families of one run.
func Gather(rep *run.Report, records []ddns.RecordStatus) ([]*dto.MetricFamily, error) {
	var fams families
	g := fams.gauge

	g("last_run_timestamp_seconds", "When the last run started, in seconds since the epoch.", "command").
		with(rep.Command).set(float64(rep.StartedAt.UnixNano()) / 1e9)
	g("last_run_duration_seconds", "How long the last run took.", "command").
		with(rep.Command).set(time.Duration(rep.Duration).Seconds())
	g("last_run_exit_code", "The last run's exit code (0 done, 2 a step failed, 4 degraded, ...).", "command").
		with(rep.Command).set(float64(rep.ExitCode))
	outcome := g("last_run_outcome", "1 for the last run's outcome, 0 for the others.", "command", "outcome")
	for _, o := range withExtra(outcomes, rep.Outcome) {
		outcome.with(rep.Command, o).set(boolf(o == rep.Outcome))
	}

	dur := g("step_duration_seconds", "How long each step took in the last run.", "step")
	status := g("step_status", "1 for each step's status in the last run, 0 for the others.", "step", "status")
	changes := g("step_changes", "How many changes each step made in the last run.", "step")
	requests := g("provider_requests", "How many dynamic DNS provider requests the last run sent.")
	sent := 0
	for _, s := range rep.Steps {
		sent += s.Requests
		dur.with(s.Name).set(time.Duration(s.Duration).Seconds())
		changes.with(s.Name).set(float64(len(s.Changed)))
		for _, st := range withExtra(stepStatuses, s.Status) {
			status.with(s.Name, st).set(boolf(st == s.Status))
		}
	}

	requests.with().set(float64(sent))

	byState := g("dns_records", "DNS records by state after the last run.", "state")
	recState := g("dns_record_state", "1 for each DNS record's state after the last run.", "account", "name", "type", "state")
	count := map[string]int{}
	for _, r := range records {
		st := RecordState(r)
		count[st]++
		recState.with(r.Account, r.Name, r.Type, st).set(1)
	}
	for _, st := range recordStates {
		byState.with(st).set(float64(count[st]))
	}

	used := g("filesystem_used_bytes", "Bytes used on each watched filesystem (df's used), after the last run.", "path")
	size := g("filesystem_size_bytes", "Bytes used plus available to users on each watched filesystem.", "path")
	ratio := g("filesystem_used_ratio", "Used over used plus available (df's Use%), 0 to 1.", "path")
	inodes := g("filesystem_inodes_used_ratio", "Inodes used over total, 0 to 1.", "path")
	for _, u := range rep.Disk {
		used.with(u.Path).set(float64(u.Used))
		size.with(u.Path).set(float64(u.Used + u.Avail))
		if u.Used+u.Avail > 0 {
			ratio.with(u.Path).set(float64(u.Used) / float64(u.Used+u.Avail))
		}
		inodes.with(u.Path).set(float64(u.InodePct) / 100)
	}

	peers := g("peers", "Peers with an address per role (fresh or stale) in the last run.", "role")
	stale := g("peers_stale", "Peers per role kept at their last known address: their names no longer resolve.", "role")
	missing := g("peers_missing", "Peers per role left out: never resolved, or stale past peers.stale_after.", "role")
	oldest := g("peers_oldest_stale_age_seconds", "Per role, how long the longest-failing stale peer had not resolved at the last run; 0 when none is stale.", "role")
	for _, r := range rep.Peers {
		peers.with(r.Role).set(float64(r.Peers))
		stale.with(r.Role).set(float64(r.Stale))
		missing.with(r.Role).set(float64(r.Missing))
		age := 0.0
		if r.OldestStaleSince != nil {
			age = rep.StartedAt.Sub(*r.OldestStaleSince).Seconds()
		}
		oldest.with(r.Role).set(max(age, 0))
	}

	relocated := g("relocated", "1 for each path on the instance store after the last run, 0 for one left on the root disk.", "path")
	for _, st := range rep.Relocation {
		relocated.with(st.Path).set(boolf(st.Relocated))
	}
	return fams.gather()
}

// Encode is the text exposition of the families.
func Encode(mfs []*dto.MetricFamily) ([]byte, error) {
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// Write writes the run's metrics to file (a host path under root) through
// atomicfile, so node_exporter never reads half a file.
func Write(root hostfs.Root, file string, rep *run.Report, records []ddns.RecordStatus) error {
	mfs, err := Gather(rep, records)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	b, err := Encode(mfs)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := os.MkdirAll(root.Path(filepath.Dir(file)), 0o755); err != nil {
		return fmt.Errorf("metrics %s: %w", file, err)
	}
	dest, err := root.Dest(file)
	if err != nil {
		return fmt.Errorf("metrics %s: %w", file, err)
	}
	opt := atomicfile.Defaults()
	opt.Mode = 0o644
	if _, err := atomicfile.Write(dest.Real, b, opt); err != nil {
		return fmt.Errorf("metrics %s: %w", file, err)
	}
	return nil
}

// withExtra is list plus v when v is not in it (an outcome or status this
// package does not know yet still shows).
func withExtra(list []string, v string) []string {
	for _, s := range list {
		if s == v {
			return list
		}
	}
	return append(append([]string{}, list...), v)
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
