package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

const metricsDir = "/var/lib/prometheus/node-exporter"

// volatile are the metrics whose values differ from run to run (times,
// durations, disk fill): the test checks they are there and positive.
var volatile = []string{"ec2boot_last_run_timestamp_seconds", "ec2boot_last_run_duration_seconds",
	"ec2boot_step_duration_seconds", "ec2boot_filesystem_"}

// series reads a textfile into "name{labels} value" lines, with the
// values of volatile metrics written as "+" when positive.
func series(t *testing.T, b []byte) []string {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, b)
	}
	var out []string
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := fmt.Sprint(m.GetGauge().GetValue())
			for _, prefix := range volatile {
				if strings.HasPrefix(name, prefix) {
					if m.GetGauge().GetValue() > 0 || strings.Contains(name, "step_duration") {
						v = "+"
					}
				}
			}
			out = append(out, fmt.Sprintf("%s{%s} %s", name, strings.Join(labels, ","), v))
		}
	}
	sort.Strings(out)
	return out
}

// only keeps the lines of the given metrics.
func only(lines []string, names ...string) []string {
	var out []string
	for _, l := range lines {
		for _, n := range names {
			if strings.HasPrefix(l, n+"{") {
				out = append(out, l)
			}
		}
	}
	return out
}

// promtoolCheck runs `promtool check metrics` on the file.
func promtoolCheck(t *testing.T, b []byte) {
	t.Helper()
	promtool := testenv.Tool(t, "promtool", "apt-get install prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, b)
	}
}

func TestRunWritesMetrics(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	conf, err := os.ReadFile(filepath.Join(root, "etc/ec2boot/config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, "/etc/ec2boot/config.toml", string(conf)+"\n[metrics]\ntextfile_dir = \""+metricsDir+"\"\n")
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000002", "local-ipv4": "10.1.0.12", "public-ipv4": "203.0.113.12",
	}})
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}
	file := filepath.Join(root, metricsDir, "ec2boot.prom")

	if r := ec2boot(t, append([]string{"run"}, flags...)...); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	promtoolCheck(t, b)
	got := series(t, b)
	want := []string{
		`ec2boot_dns_record_state{account="e2e",name="web-1.example.test",state="registered",type="A"} 1`,
		`ec2boot_dns_record_state{account="e2e",name="web-1.internal.example.test",state="registered",type="A"} 1`,
		`ec2boot_dns_records{state="conflicting"} 0`,
		`ec2boot_dns_records{state="failing"} 0`,
		`ec2boot_dns_records{state="foreign"} 0`,
		`ec2boot_dns_records{state="held"} 0`,
		`ec2boot_dns_records{state="registered"} 2`,
		`ec2boot_dns_records{state="unregistered"} 0`,
		`ec2boot_filesystem_inodes_used_ratio{path="/"} +`,
		`ec2boot_filesystem_size_bytes{path="/"} +`,
		`ec2boot_filesystem_used_bytes{path="/"} +`,
		`ec2boot_filesystem_used_ratio{path="/"} +`,
		`ec2boot_last_run_duration_seconds{command="run"} +`,
		`ec2boot_last_run_exit_code{command="run"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="degraded"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="failed"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="interrupted"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="invalid"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="locked"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="metadata-unreachable"} 0`,
		`ec2boot_last_run_outcome{command="run",outcome="ok"} 1`,
		`ec2boot_last_run_outcome{command="run",outcome="unrecorded"} 0`,
		`ec2boot_last_run_timestamp_seconds{command="run"} +`,
	}
	if d := cmp.Diff(want, only(got, "ec2boot_dns_record_state", "ec2boot_dns_records", "ec2boot_filesystem_inodes_used_ratio",
		"ec2boot_filesystem_size_bytes", "ec2boot_filesystem_used_bytes", "ec2boot_filesystem_used_ratio",
		"ec2boot_last_run_duration_seconds", "ec2boot_last_run_exit_code", "ec2boot_last_run_outcome",
		"ec2boot_last_run_timestamp_seconds")); d != "" {
		t.Errorf("first run's metrics (-want +got):\n%s\n%s", d, b)
	}
	wantSteps := []string{
		`ec2boot_step_changes{step="facts"} 2`,
		`ec2boot_step_changes{step="hosts"} 1`,
		`ec2boot_step_status{status="changed",step="ddns"} 1`,
		`ec2boot_step_status{status="unchanged",step="ddns"} 0`,
		`ec2boot_step_status{status="changed",step="hosts"} 1`,
		`ec2boot_step_status{status="failed",step="hosts"} 0`,
	}
	// The requests the provider received, the peers of the user-data.
	wantSteps = append(wantSteps, fmt.Sprintf("ec2boot_provider_requests{} %d", p.dyn.Count()),
		`ec2boot_peers{role="db"} 1`, `ec2boot_peers_stale{role="db"} 0`, `ec2boot_peers_missing{role="db"} 0`,
		`ec2boot_peers_oldest_stale_age_seconds{role="db"} 0`)
	if p.dyn.Count() == 0 {
		t.Error("the first run sent no provider request")
	}
	for _, w := range wantSteps {
		if !contains(got, w) {
			t.Errorf("first run's metrics lack %s:\n%s", w, b)
		}
	}

	// A run that changes nothing rewrites the metrics file and nothing else.
	before := snapshotLines(t, root)
	if r := ec2boot(t, append([]string{"run"}, flags...)...); r.code != 0 {
		t.Fatalf("second run: exit %d\n%s", r.code, r.stderr)
	}
	after := snapshotLines(t, root)
	var changed []string
	for p, v := range after {
		if before[p] != v {
			changed = append(changed, strings.TrimPrefix(p, root))
		}
	}
	if d := cmp.Diff([]string{filepath.Join(metricsDir, "ec2boot.prom")}, changed); d != "" {
		t.Errorf("no-change run changed (-want +got):\n%s", d)
	}
	b, _ = os.ReadFile(file)
	if got := series(t, b); !contains(got, `ec2boot_step_changes{step="ddns"} 0`) || !contains(got, `ec2boot_provider_requests{} 0`) {
		t.Errorf("no-change run's metrics:\n%s", b)
	}

	// The provider refuses the password: the run fails, and says so.
	write(t, root, "/etc/ec2boot/e2e.secret", "wrong\n")
	r := ec2boot(t, append([]string{"run", "--force"}, flags...)...)
	if r.code != 2 {
		t.Fatalf("run with a refused password: exit %d, want 2\n%s", r.code, r.stderr)
	}
	b, _ = os.ReadFile(file)
	promtoolCheck(t, b)
	got = series(t, b)
	for _, w := range []string{
		`ec2boot_last_run_exit_code{command="run"} 2`,
		`ec2boot_last_run_outcome{command="run",outcome="failed"} 1`,
		`ec2boot_last_run_outcome{command="run",outcome="ok"} 0`,
		`ec2boot_step_status{status="failed",step="ddns"} 1`,
		`ec2boot_dns_records{state="failing"} 2`,
		`ec2boot_dns_records{state="registered"} 0`,
	} {
		if !contains(got, w) {
			t.Errorf("failed run's metrics lack %s:\n%s", w, b)
		}
	}

	// A configuration that cannot be read does not name the directory:
	// the failure goes to the file the last run wrote.
	write(t, root, "/etc/ec2boot/config.toml", string(conf)+"\n[metrics]\ntextfile_dir = 42\n")
	if r := ec2boot(t, append([]string{"run"}, flags...)...); r.code != 1 {
		t.Fatalf("run with a bad config: exit %d, want 1\n%s", r.code, r.stderr)
	}
	b, _ = os.ReadFile(file)
	promtoolCheck(t, b)
	got = series(t, b)
	for _, w := range []string{
		`ec2boot_last_run_exit_code{command="run"} 1`,
		`ec2boot_last_run_outcome{command="run",outcome="invalid"} 1`,
	} {
		if !contains(got, w) {
			t.Errorf("invalid run's metrics lack %s:\n%s", w, b)
		}
	}

	// Config and password fixed, the peer's name gone from DNS: the run
	// keeps it at its last address and is degraded; the metrics say which
	// role has a stale peer, and relocation and the DNS records are back.
	write(t, root, "/etc/ec2boot/config.toml", string(conf)+"\n[metrics]\ntextfile_dir = \""+metricsDir+"\"\n")
	write(t, root, "/etc/ec2boot/e2e.secret", secret+"\n")
	if err := p.dns.Update(context.Background(), "db-1.example.test", nil); err != nil {
		t.Fatal(err)
	}
	if r := ec2boot(t, append([]string{"run", "--force"}, flags...)...); r.code != 4 {
		t.Fatalf("run with a stale peer: exit %d, want 4\n%s", r.code, r.stderr)
	}
	b, _ = os.ReadFile(file)
	promtoolCheck(t, b)
	got = series(t, b)
	if st := ec2boot(t, "status", "--root", root); !strings.Contains(st.stdout, "  peers:\n    db: 1, 1 stale (the oldest since ") {
		t.Errorf("status does not show the stale peer:\n%s", st.stdout)
	}
	for _, w := range []string{
		`ec2boot_last_run_outcome{command="run",outcome="degraded"} 1`,
		`ec2boot_peers{role="db"} 1`,
		`ec2boot_peers_stale{role="db"} 1`,
		`ec2boot_peers_missing{role="db"} 0`,
		`ec2boot_dns_records{state="registered"} 2`,
	} {
		if !contains(got, w) {
			t.Errorf("stale peer run's metrics lack %s:\n%s", w, b)
		}
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// snapshotLines is snapshot as a map from path to its inode and time.
func snapshotLines(t *testing.T, root string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(snapshot(t, root), "\n") {
		p, v, _ := strings.Cut(l, " ")
		out[p] = v
	}
	return out
}
