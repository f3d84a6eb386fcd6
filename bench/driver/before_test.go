package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseInitTrace(t *testing.T) {
	stderr := strings.Join([]string{
		"init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs",
		"init github.com/miekg/dns @1.3 ms, 0.052 ms clock, 22672 bytes, 84 allocs",
		"ec2boot 8f1a704",
		"init broken @1 ms, x ms clock, 1 bytes, 1 allocs",
		"init negative @1 ms, -1 ms clock, 1 bytes, 1 allocs",
		"init short @1 ms, 0.1 ms clock",
		"",
	}, "\n")
	want := []pkgInit{
		{Package: "internal/bytealg"},
		{Package: "github.com/miekg/dns", Clock: 52 * time.Microsecond, Bytes: 22672, Allocs: 84},
	}
	if d := cmp.Diff(want, parseInitTrace([]byte(stderr))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func FuzzParseInitTrace(f *testing.F) {
	f.Add("init net/netip @0.81 ms, 0.012 ms clock, 744 bytes, 18 allocs\n")
	f.Add("init a @ ms, NaN ms clock, 1 bytes, 1 allocs")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range parseInitTrace([]byte(s)) {
			if p.Clock < 0 || p.Bytes < 0 || p.Allocs < 0 || p.Package == "" {
				t.Fatalf("%q gave %+v", s, p)
			}
		}
	})
}

func TestModuleOf(t *testing.T) {
	for pkg, want := range map[string]string{
		"github.com/miekg/dns":                         "github.com/miekg/dns",
		"github.com/vishvananda/netlink/nl":            "github.com/vishvananda/netlink",
		"go.yaml.in/yaml/v3":                           "go.yaml.in/yaml/v3",
		"golang.org/x/net/dns/dnsmessage":              "golang.org/x/net",
		"github.com/aws/aws-sdk-go-v2/service/route53": "github.com/aws/aws-sdk-go-v2",
		"github.com/coreos/go-systemd/v22/journal":     "github.com/coreos/go-systemd/v22",
		"google.golang.org/protobuf/internal/impl":     "google.golang.org/protobuf",
		"net/netip":                                  "net",
		"vendor/golang.org/x/net/idna":               "vendor",
		"github.com/ec2boot/ec2boot/bootstrap/hosts": "ec2boot's own packages",
		"runtime": "runtime",
	} {
		if got := moduleOf(pkg); got != want {
			t.Errorf("moduleOf(%q) = %q, want %q", pkg, got, want)
		}
	}
}

func TestSummariseInits(t *testing.T) {
	run := func(dns time.Duration) []pkgInit {
		return []pkgInit{
			{Package: "net/netip", Clock: 10 * time.Microsecond, Bytes: 100},
			{Package: "net", Clock: 20 * time.Microsecond, Bytes: 50},
			{Package: "github.com/miekg/dns", Clock: dns, Bytes: 1000},
		}
	}
	got := summariseInits([][]pkgInit{run(50 * time.Microsecond), run(70 * time.Microsecond), run(60 * time.Microsecond)})
	want := initSummary{Runs: 3, Count: 3, Clock: 90 * time.Microsecond, Bytes: 1150, ByModule: []moduleInit{
		{Module: "github.com/miekg/dns", Count: 1, Clock: 60 * time.Microsecond, Bytes: 1000},
		{Module: "net", Count: 2, Clock: 30 * time.Microsecond, Bytes: 150},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// The paired ratio is taken within each round, so a slow round slows both
// binaries and cancels out, where the ratio of the medians would not.
func TestPairedRatio(t *testing.T) {
	rec := func(ms ...int) []runRecord {
		var r []runRecord
		for _, m := range ms {
			r = append(r, runRecord{Sample: sample{Wall: time.Duration(m) * time.Millisecond}})
		}
		return r
	}
	before := rec(10, 40, 10, 40, 10)
	after := rec(11, 44, 11, 44, 11)
	med, lo, hi, ok := pairedRatio(after, before, wallOf)
	if !ok || med < 1.0999 || med > 1.1001 || lo != med || hi != med {
		t.Errorf("pairedRatio = %v, %v, %v, %v; want 1.1 throughout", med, lo, hi, ok)
	}
	if _, _, _, ok := pairedRatio(nil, before, wallOf); ok {
		t.Error("pairedRatio of no runs: ok")
	}
}

// The goals against the reference are met at 10% and missed past it, in
// wall time and in CPU time both.
func TestBaseGoals(t *testing.T) {
	mk := func(wall, cpu int) *results {
		r := &results{BaseRev: "505cc3a", Runs: map[string][]runRecord{}}
		for i := 0; i < 5; i++ {
			for _, k := range []string{"cold@0", "nochange@0"} {
				r.add(basePrefix+k, runRecord{Sample: sample{Wall: 100 * time.Millisecond, CPU: 50 * time.Millisecond}})
				r.add(k, runRecord{Sample: sample{Wall: time.Duration(wall) * time.Millisecond, CPU: time.Duration(cpu) * time.Millisecond / 2}})
			}
		}
		return r
	}
	for _, tt := range []struct {
		wall, cpu int // ms against 100
		met       bool
	}{{90, 90, true}, {110, 110, true}, {112, 100, false}, {100, 112, false}} {
		for _, g := range mk(tt.wall, tt.cpu).baseGoals() {
			if !g.Known || g.Met != tt.met {
				t.Errorf("wall %d, CPU %d against 100: %s: met=%v known=%v, want met=%v", tt.wall, tt.cpu, g.What, g.Met, g.Known, tt.met)
			}
		}
	}
}

// rssAtExit sees a program's resident set as it exits, heap and file
// pages apart: a program that touches 32 MiB of heap shows it as
// anonymous memory.
func TestRSSAtExit(t *testing.T) {
	if os.Getenv("BENCH_RSS_CHILD") == "1" {
		b := make([]byte, 32<<20)
		for i := range b {
			b[i] = 1
		}
		os.Exit(int(b[len(b)-1]) - 1)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, err := rssAtExit([]string{exe, "-test.run", "^TestRSSAtExit$"}, append(os.Environ(), "BENCH_RSS_CHILD=1"),
		t.TempDir(), filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resident set at exit: %+v", r)
	if r.AnonKiB < 32<<10 || r.FileKiB <= 0 || r.PeakKiB < r.AnonKiB {
		t.Errorf("resident set at exit: %+v; want at least 32 MiB anonymous, some file pages, a peak above both", r)
	}
}

// The document has a before-and-after section, with its verdicts, only
// when the reference binary ran; without one it is the same document as
// before, and neither case fails for want of the optional figures.
func TestBeforeAfterSection(t *testing.T) {
	mk := func(withBase bool) *results {
		r := &results{BaseRev: "505cc3a", BinaryBytes: 11 << 20, BaseBinaryBytes: 8 << 20}
		for i := 0; i < 3; i++ {
			for _, k := range []string{"cold@0", "nochange@0", "version", "not-ec2"} {
				s := sample{Wall: 20 * time.Millisecond, CPU: 10 * time.Millisecond, MaxRSSKiB: 11 << 10}
				r.add(k, runRecord{Sample: s, Steps: map[string]float64{"(whole run, in-process)": 12}})
				if withBase {
					s.Wall, s.MaxRSSKiB = 19*time.Millisecond, 9<<10
					r.add(basePrefix+k, runRecord{Sample: s, Steps: map[string]float64{"(whole run, in-process)": 11}})
				}
			}
		}
		return r
	}
	doc := mk(true).markdown(nil, "")
	for _, want := range []string{"## 0. Before and after", "| cold boot run, 0 ms: wall | 19.0 ms | 20.0 ms | +5.3% | within 10%: met |",
		"under 12 MiB: met", "| cold run within 10% of 505cc3a's (0 ms latency; wall and CPU) |"} {
		if !strings.Contains(doc, want) {
			t.Errorf("with a reference: no %q in the document", want)
		}
	}
	doc = mk(false).markdown(nil, "")
	for _, unwanted := range []string{"## 0. Before and after", "505cc3a's"} {
		if strings.Contains(doc, unwanted) {
			t.Errorf("without a reference: %q in the document", unwanted)
		}
	}
}

// The discovery simulation's table goes into section 5 when it ran, and
// nothing is said of it when it did not.
func TestDiscoverySection(t *testing.T) {
	r := &results{Discover: "| N | period |\n|---|---|\n| 10 | first boot of the whole group |\n"}
	doc := r.markdown(nil, "")
	for _, want := range []string{"### Peer discovery by EC2 tags", "| 10 | first boot of the whole group |", "N = 1,000 is computed"} {
		if !strings.Contains(doc, want) {
			t.Errorf("no %q in the document", want)
		}
	}
	if doc := (&results{}).markdown(nil, ""); strings.Contains(doc, "Peer discovery by EC2 tags") {
		t.Error("a discovery section without a simulation")
	}
}
