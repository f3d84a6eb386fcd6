package metrics

import (
	"flag"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/diskguard"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
	"github.com/ec2boot/ec2boot/bootstrap/relocate"
	"github.com/ec2boot/ec2boot/bootstrap/run"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// TestEncodeGolden pins the exact text written, byte for byte: the order of
// families and series, the help lines, the number formats. The golden files
// were first written by the client_golang registry this package used before
// it built the families itself, so they also show that nothing changed.
func TestEncodeGolden(t *testing.T) {
	start := time.Unix(1700000000, 250_000_000)
	rep, recs := sample(start)
	busy, busyRecs := busySample(start)
	for _, tc := range []struct {
		golden string
		rep    *run.Report
		recs   []ddns.RecordStatus
	}{
		{"testdata/sample.prom", rep, recs},
		{"testdata/busy.prom", busy, busyRecs},
		{"testdata/empty.prom", &run.Report{Command: "status", StartedAt: start, Outcome: run.Unrecorded}, nil},
	} {
		mfs, err := Gather(tc.rep, tc.recs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(mfs)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(tc.golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(tc.golden)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.golden, d)
		}
	}
}

// busySample has what the order and the deduplication are made of: steps,
// roles and paths out of order, an outcome and a status not in the known
// lists, the same record twice, and labels that need escaping.
func busySample(start time.Time) (*run.Report, []ddns.RecordStatus) {
	since := start.Add(-time.Hour)
	rep := &run.Report{Command: "run", StartedAt: start, Duration: run.Millis(1500 * time.Millisecond),
		ExitCode: 2, Outcome: "brand-new",
		Steps: []run.StepReport{
			{Name: "relocate", Status: "unchanged"},
			{Name: "ddns", Status: "retrying", Requests: 3, Changed: []string{"x"}},
			{Name: "hosts", Status: "changed", Requests: 1, Changed: []string{"/etc/hosts", "/etc/app.conf"}},
		},
		Disk: []diskguard.Usage{
			{Path: "/var/log", Used: 5, Avail: 15, InodePct: 33},
			{Path: "/", Used: 123456789, Avail: 987654321, InodePct: 7},
			{Path: "/empty", InodePct: 0},
		},
		Peers: []peers.RoleSummary{
			{Role: "zk", Peers: 3},
			{Role: "db", Peers: 2, Stale: 2, OldestStaleSince: &since},
			{Role: "db", Peers: 4},
		},
		Relocation: []relocate.PathState{{Path: "/var/tmp"}, {Path: "/var/log", Relocated: true}},
	}
	addr := netip.MustParseAddr("2001:db8::1")
	recs := []ddns.RecordStatus{
		{Account: "r53", Name: "b.example.test", Type: "AAAA", Addr: addr},
		{Account: "r53", Name: "a.example.test", Type: "A"},
		{Account: "dyn", Name: "a.example.test", Type: "A", Error: "badauth", NextAttempt: start},
		{Account: "r53", Name: "b.example.test", Type: "AAAA", Addr: addr},
		{Account: "dyn", Name: "q\"uote\\d\n.example.test", Type: "A", Foreign: true},
	}
	return rep, recs
}

// TestGatherRefusesInvalidUTF8: a label value the text format cannot carry
// is an error naming the metric and the label, and nothing is written.
func TestGatherRefusesInvalidUTF8(t *testing.T) {
	rep, recs := sample(time.Unix(1700000000, 0))
	rep.Disk[0].Path = "/mnt/\xff"
	_, err := Gather(rep, recs)
	if err == nil || !strings.Contains(err.Error(), "ec2boot_filesystem_") || !strings.Contains(err.Error(), "label path") {
		t.Errorf("Gather with a path that is not UTF-8: %v", err)
	}
}
