package metrics

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/diskguard"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/relocate"
	"github.com/ec2boot/ec2boot/bootstrap/run"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

func TestRecordState(t *testing.T) {
	addr := netip.MustParseAddr("10.1.0.11")
	later := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		r    ddns.RecordStatus
		want string
	}{
		{ddns.RecordStatus{Addr: addr}, StateRegistered},
		{ddns.RecordStatus{}, StateUnregistered},
		{ddns.RecordStatus{Addr: addr, Error: "badauth: refused"}, StateFailing},
		{ddns.RecordStatus{Addr: addr, Error: "911: wait", NextAttempt: later}, StateHeld},
		{ddns.RecordStatus{Addr: addr, Error: "badauth: refused", Foreign: true}, StateForeign},
		{ddns.RecordStatus{Addr: addr, Conflict: &ddns.ConflictStatus{State: "yielded"}}, StateConflicting},
		{ddns.RecordStatus{Addr: addr, Error: "badauth: refused", Conflict: &ddns.ConflictStatus{State: "repaired"}}, StateFailing},
	} {
		if got := RecordState(tc.r); got != tc.want {
			t.Errorf("RecordState(%+v) = %s, want %s", tc.r, got, tc.want)
		}
	}
}

// sample is a report as a run makes it.
func sample(start time.Time) (*run.Report, []ddns.RecordStatus) {
	staleSince := start.Add(-90 * time.Minute)
	rep := &run.Report{Command: "run", StartedAt: start, Duration: run.Millis(120 * time.Millisecond),
		ExitCode: run.ExitDegraded, Outcome: "degraded",
		Steps: []run.StepReport{
			{Name: "ddns", Status: "changed", Duration: run.Millis(3 * time.Millisecond), Requests: 2, Changed: []string{"a", "b"}},
			{Name: "disk", Status: "degraded", Duration: run.Millis(time.Millisecond), Degraded: []string{"/ is 91% full"}},
		},
		Disk: []diskguard.Usage{{Path: "/", Total: 1000, Used: 910, Avail: 90, Percent: 91, InodePct: 5}},
		Peers: []peers.RoleSummary{
			{Role: "db", Peers: 2, Stale: 1, Missing: 1, OldestStaleSince: &staleSince},
			{Role: "web", Peers: 3},
		},
		Relocation: []relocate.PathState{{Path: "/var/log", Relocated: true}, {Path: "/srv", Reason: "does not exist"}},
	}
	recs := []ddns.RecordStatus{{Account: "e2e", Name: "web-1.example.test", Type: "A", Addr: netip.MustParseAddr("203.0.113.11")}}
	return rep, recs
}

// TestWrite: the file is in the text format, with the values of the report.
func TestWrite(t *testing.T) {
	root := hostfs.Root(t.TempDir())
	rep, recs := sample(time.Unix(1700000000, 0))
	file := "/var/lib/node-exporter/ec2boot.prom"
	if err := Write(root, file, rep, recs); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(root.Path(file))
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels map[string]string) float64 {
		for _, m := range mfs[name].GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if cmp.Equal(got, labels) {
				return m.GetGauge().GetValue()
			}
		}
		t.Errorf("%s%v missing:\n%s", name, labels, b)
		return -1
	}
	got := []float64{
		value("ec2boot_last_run_timestamp_seconds", map[string]string{"command": "run"}),
		value("ec2boot_last_run_duration_seconds", map[string]string{"command": "run"}),
		value("ec2boot_last_run_exit_code", map[string]string{"command": "run"}),
		value("ec2boot_last_run_outcome", map[string]string{"command": "run", "outcome": "degraded"}),
		value("ec2boot_last_run_outcome", map[string]string{"command": "run", "outcome": "ok"}),
		value("ec2boot_step_status", map[string]string{"step": "disk", "status": "degraded"}),
		value("ec2boot_step_duration_seconds", map[string]string{"step": "ddns"}),
		value("ec2boot_filesystem_used_ratio", map[string]string{"path": "/"}),
		value("ec2boot_filesystem_size_bytes", map[string]string{"path": "/"}),
		value("ec2boot_dns_records", map[string]string{"state": "registered"}),
		value("ec2boot_provider_requests", map[string]string{}),
		value("ec2boot_step_changes", map[string]string{"step": "ddns"}),
		value("ec2boot_peers", map[string]string{"role": "db"}),
		value("ec2boot_peers_stale", map[string]string{"role": "db"}),
		value("ec2boot_peers_missing", map[string]string{"role": "db"}),
		value("ec2boot_peers_oldest_stale_age_seconds", map[string]string{"role": "db"}),
		value("ec2boot_peers_oldest_stale_age_seconds", map[string]string{"role": "web"}),
		value("ec2boot_relocated", map[string]string{"path": "/var/log"}),
		value("ec2boot_relocated", map[string]string{"path": "/srv"}),
	}
	want := []float64{1700000000, 0.12, 4, 1, 0, 1, 0.003, 0.91, 1000, 1, 2, 2, 2, 1, 1, 5400, 0, 1, 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	if fi, err := os.Stat(root.Path(file)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode: %v %v", fi.Mode(), err)
	}
}

// TestWriteRefusesPlantedLink: the file goes through hostfs's link rule.
func TestWriteRefusesPlantedLink(t *testing.T) {
	root := hostfs.Root(t.TempDir())
	dir := root.Path("/var/lib/node-exporter")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777) // writable by anyone: a link in it is not trusted
	if err := os.Symlink("/etc/shadow", filepath.Join(dir, "ec2boot.prom")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(root.Path("/etc"), 0o755)
	os.WriteFile(root.Path("/etc/shadow"), []byte("root:x\n"), 0o600)
	rep, recs := sample(time.Unix(1700000000, 0))
	err := Write(root, "/var/lib/node-exporter/ec2boot.prom", rep, recs)
	if err == nil || !strings.Contains(err.Error(), "refusing to write through the symbolic link") {
		t.Errorf("Write through a planted link: %v", err)
	}
	if b, _ := os.ReadFile(root.Path("/etc/shadow")); string(b) != "root:x\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// The alert rules are checked and unit-tested by promtool, and the docs
// show them verbatim.
func TestAlertRules(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "apt-get install prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../docs"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
	rules, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("```yaml\n"+string(rules)+"```\n")) {
		t.Error("docs/metrics.md does not show docs/alerts.yml verbatim in a yaml block")
	}
}

// TestMetricsDocumented: docs/metrics.md names every metric written.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	rep, recs := sample(time.Unix(1700000000, 0))
	mfs, err := Gather(rep, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !bytes.Contains(doc, []byte("`"+mf.GetName()+"`")) {
			t.Errorf("docs/metrics.md does not document %s", mf.GetName())
		}
	}
}
