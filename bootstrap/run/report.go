package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
	"github.com/ec2boot/ec2boot/bootstrap/diskguard"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/lock"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/relocate"
)

// RuntimeDir holds what other units read and what lives only until reboot
// (see lock.RuntimeDir, which owns the directory's layout).
const RuntimeDir = lock.RuntimeDir

// StatusFile is the last run's report, read by `ec2boot status`. It lives in
// the runtime directory (a tmpfs), so that a run that changes nothing writes
// nothing to disk.
const StatusFile = RuntimeDir + "/status.json"

// Report is the outcome of one run.
type Report struct {
	Command     string       `json:"command"`
	Version     string       `json:"version"`
	InstanceID  string       `json:"instance_id,omitempty"`
	StartedAt   time.Time    `json:"started_at"`
	Duration    Millis       `json:"duration_ms"`
	ExitCode    int          `json:"exit_code"`
	Outcome     string       `json:"outcome"`
	Message     string       `json:"message,omitempty"`
	FactsSource string       `json:"facts_source,omitempty"`
	Config      []string     `json:"config_problems,omitempty"`
	Steps       []StepReport `json:"steps,omitempty"`
	// Disk is the usage of / and the instance store as the disk step
	// measured it, after the other steps.
	Disk []diskguard.Usage `json:"disk,omitempty"`
	// Peers is each role's peers as hosts resolved them.
	Peers []peers.RoleSummary `json:"peers,omitempty"`
	// Relocation is, per configured path, whether it is on the instance
	// store after the run; empty without an instance store.
	Relocation []relocate.PathState `json:"relocation,omitempty"`
	// MetricsFile is where the run's metrics went (metrics.textfile_dir),
	// empty when metrics are off.
	MetricsFile string `json:"metrics_file,omitempty"`
}

// StepReport is one step's part of a Report.
type StepReport struct {
	Name string `json:"name"`
	// Status is unchanged, changed, failed, degraded, interrupted (it was
	// under way when the run was interrupted) or skipped (the run was
	// interrupted before it started).
	Status   string   `json:"status"`
	Duration Millis   `json:"duration_ms"`
	Changed  []string `json:"changed,omitempty"`
	Degraded []string `json:"degraded,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Requests is how many provider requests the step sent (ddns).
	Requests int `json:"requests,omitempty"`
}

// Millis is a duration written as milliseconds.
type Millis time.Duration

// MarshalJSON writes fractional milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Duration(m).Microseconds()) / 1000)
}

// UnmarshalJSON reads fractional milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*m = Millis(time.Duration(f * float64(time.Millisecond)))
	return nil
}

func outcomeOf(code int) string {
	switch code {
	case ExitOK:
		return "ok"
	case ExitInvalid:
		return "invalid"
	case ExitStepFailed:
		return "failed"
	case ExitNoMetadata:
		return "metadata-unreachable"
	case ExitDegraded:
		return "degraded"
	case ExitLocked:
		return "locked"
	case ExitInterrupted:
		return "interrupted"
	}
	return fmt.Sprintf("exit %d", code)
}

func writeReport(root hostfs.Root, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root.Path(RuntimeDir), 0o755); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	dest, err := root.Dest(StatusFile)
	if err != nil {
		return fmt.Errorf("status %s: %w", StatusFile, err)
	}
	opt := atomicfile.Defaults()
	opt.Mode = 0o644
	_, err = atomicfile.Write(dest.Real, append(b, '\n'), opt)
	return err
}

// Unrecorded is the outcome `status` shows for a run that could not write
// its report.
const Unrecorded = "unrecorded"

// forgetReport makes sure a previous run's report does not outlive a run
// that could not record its own: it overwrites the old file in place with a
// short record that says so (a full tmpfs still has the old file's blocks),
// and removes it when even that fails.
func forgetReport(root hostfs.Root, r *Report, why error) error {
	short := Report{Command: r.Command, Version: r.Version, StartedAt: r.StartedAt,
		ExitCode: r.ExitCode, Outcome: Unrecorded, Message: "this run could not record its status"}
	b, err := json.Marshal(short)
	if err != nil {
		return err
	}
	dest, err := root.Dest(StatusFile)
	if err != nil {
		return fmt.Errorf("status %s: %w", StatusFile, err)
	}
	werr := atomicfile.Overwrite(dest.Real, append(b, '\n'))
	if werr == nil || errors.Is(werr, fs.ErrNotExist) {
		return nil
	}
	if err := os.Remove(dest.Real); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("status %s still holds an earlier run's report: %w", StatusFile, errors.Join(why, werr, err))
	}
	return nil
}

// ReadReport returns the last run's report, or nil when there was none
// since boot.
func ReadReport(root hostfs.Root) (*Report, error) {
	b, err := os.ReadFile(root.Path(StatusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("status %s: corrupt: %w", root.Path(StatusFile), err)
	}
	return &r, nil
}
