// Command driver runs ec2boot's benchmark (make bench): the cold boot run
// and the no-change re-run against the IMDS emulator, the dyndns2 test
// provider and its DNS server with latency injected, IMDS coming up late,
// the clear exit off EC2, ddclient, inadyn and cloud-init doing the same
// jobs, and the binary's size and startup cost. It must run as root inside
// a private mount and network namespace (scripts/bench.sh arranges it):
// it mounts tmpfs instance stores and only ever talks to loopback.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bench/latency"
)

type options struct {
	ec2boot, testpeers, aemm string
	src, out                 string
	runs, compareRuns        int
	latencies                []int
	doc                      string
	fleet                    string
	quick                    bool
	profile                  int
	profileTop               string
	tags                     string
	gobench                  string
	discover                 string
	// The reference binary ("before"), its source tree, revision and tags.
	base, baseSrc, baseRev, baseTags string
}

func main() {
	var o options
	flag.StringVar(&o.ec2boot, "ec2boot", "bin/ec2boot", "the ec2boot binary")
	flag.StringVar(&o.testpeers, "testpeers", "bin/ec2boot-testpeers", "the test peers binary")
	flag.StringVar(&o.aemm, "aemm", "ec2-metadata-mock", "AWS's IMDS emulator")
	flag.StringVar(&o.src, "src", ".", "the source tree (templates, go build for the size breakdown)")
	flag.StringVar(&o.out, "out", "bench/out", "raw results")
	flag.StringVar(&o.doc, "doc", "docs/benchmarks.md", "the results document to rewrite (empty: none)")
	flag.StringVar(&o.fleet, "fleet", "", "the fleet simulation's JSON results to include")
	flag.IntVar(&o.runs, "runs", 7, "runs per measurement")
	flag.IntVar(&o.compareRuns, "compare-runs", 9, "interleaved runs of each client in the comparison")
	flag.IntVar(&o.profile, "profile", 0, "instead of the benchmark: run the cold and no-change jobs this many times in-process under the CPU profiler")
	flag.StringVar(&o.profileTop, "profile-top", "", "comma-separated pprof -top outputs (cold, no-change) to include in the document")
	flag.StringVar(&o.gobench, "gobench", "", "output of the Go benchmarks to include in the document")
	flag.StringVar(&o.discover, "discover", "", "the peer discovery simulation's Markdown output to include")
	flag.StringVar(&o.tags, "tags", "", "build tags of the release build (for the size breakdown)")
	flag.StringVar(&o.base, "base", "", "the reference binary (before) measured against -ec2boot (empty: none)")
	flag.StringVar(&o.baseSrc, "base-src", "", "the reference binary's source tree (for its size breakdown)")
	flag.StringVar(&o.baseRev, "base-rev", "base", "the reference binary's revision, for the document")
	flag.StringVar(&o.baseTags, "base-tags", "", "the reference binary's build tags")
	flag.BoolVar(&o.quick, "quick", false, "fewer runs (a smoke test of the benchmark itself)")
	flag.Parse()
	o.latencies = []int{0, 1, 5}
	if o.quick {
		o.runs, o.compareRuns = 2, 2
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (mounts in a private mount namespace)")
	}
	for _, p := range []*string{&o.ec2boot, &o.testpeers, &o.out, &o.src, &o.base, &o.baseSrc} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	b := &bench{opt: o, res: &results{Started: time.Now().UTC(), LoadStart: loadAvg(), BaseRev: o.baseRev}}
	defer b.close()
	if o.profile > 0 {
		if err := b.startPeers(); err != nil {
			return err
		}
		return b.profile(o.profile)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"machine and versions", b.describeMachine},
		{"peers", b.startPeers},
		{"cold and no-change runs", b.coldRuns},
		{"comparison with ddclient and inadyn", b.compare},
		{"cloud-init update_etc_hosts", b.cloudInit},
		{"IMDS late at boot", b.lateIMDS},
		{"not on EC2", b.notEC2},
		{"binary size and startup", b.startup},
		{"resident set at exit, heap and file pages apart", func() error {
			// A figure, not a goal: where ptrace is not allowed the
			// benchmark goes on without it.
			if err := b.residentAtExit(); err != nil {
				b.res.RSSAtExit = nil
				b.res.Notes = append(b.res.Notes, fmt.Sprintf("the resident set at exit was not measured: %v", err))
			}
			return nil
		}},
	}
	for _, s := range steps {
		t := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s ...\n", s.name)
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(os.Stderr, "bench: %s done in %.1fs\n", s.name, time.Since(t).Seconds())
	}
	b.res.Finished, b.res.LoadEnd = time.Now().UTC(), loadAvg()
	if o.fleet != "" {
		if raw, err := os.ReadFile(o.fleet); err == nil {
			b.res.Fleet = json.RawMessage(raw)
		} else {
			fmt.Fprintf(os.Stderr, "bench: no fleet results: %v\n", err)
		}
	}
	raw, _ := json.MarshalIndent(b.res, "", "  ")
	if err := os.WriteFile(filepath.Join(o.out, "results.json"), raw, 0o644); err != nil {
		return err
	}
	var tops []string
	if o.profileTop != "" {
		for _, p := range strings.Split(o.profileTop, ",") {
			tops = append(tops, readOr(p))
		}
	}
	fleetTable := ""
	if o.fleet != "" {
		fleetTable = readOr(strings.TrimSuffix(o.fleet, ".json") + ".md")
	}
	b.res.GoBench = readOr(o.gobench)
	b.res.Discover = readOr(o.discover)
	doc := b.res.markdown(tops, fleetTable)
	fmt.Println(b.res.table())
	if o.doc != "" {
		if err := os.WriteFile(filepath.Join(o.src, o.doc), []byte(doc), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", o.doc)
	}
	return nil
}

// bench holds the running peers and proxies.
type bench struct {
	opt  options
	res  *results
	env  []string // children's environment: no AWS_* variables
	aemm *daemon
	tp   *daemon
	tl   latency.Timeline

	imds, provider, dns *latency.Proxy
	aemmURL             string
}

// Fixed loopback ports: the benchmark has a network namespace to itself.
const (
	aemmPort    = 11338
	lateIMDS    = "127.0.0.1:11400"
	tpHTTP      = "127.0.0.1:18245"
	tpDNS       = "127.0.0.1:15353"
	peerTimeout = 10 * time.Second
)

func (b *bench) close() {
	for _, p := range []*latency.Proxy{b.imds, b.provider, b.dns} {
		if p != nil {
			_ = p.Close()
		}
	}
	b.tp.stop()
	b.aemm.stop()
}

func (b *bench) startPeers() error {
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			b.env = append(b.env, kv)
		}
	}
	cfg := filepath.Join(b.opt.out, "aemm.json")
	body := fmt.Sprintf(aemmConfig, aemmPort, instanceID, localIPv4, publicIPv4, instanceID, localIPv4)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.opt.out, "provider.secret"), []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	if err := b.startAEMM(); err != nil {
		return err
	}
	if err := b.restartProvider(nil); err != nil {
		return err
	}
	var err error
	if b.imds, err = latency.TCP("imds", b.aemmURL[len("http://"):], &b.tl); err != nil {
		return err
	}
	if b.provider, err = latency.TCP("provider", tpHTTP, &b.tl); err != nil {
		return err
	}
	if b.dns, err = latency.UDP("dns", tpDNS, &b.tl); err != nil {
		return err
	}
	return nil
}

func (b *bench) startAEMM() error {
	home := filepath.Join(b.opt.out, "aemm-home")
	_ = os.MkdirAll(home, 0o755)
	env := append(append([]string(nil), b.env...), "HOME="+home)
	d, err := startDaemon("ec2-metadata-mock", []string{b.opt.aemm, "-c", filepath.Join(b.opt.out, "aemm.json")},
		env, filepath.Join(b.opt.out, "aemm.log"))
	if err != nil {
		return err
	}
	b.aemm = d
	b.aemmURL = fmt.Sprintf("http://127.0.0.1:%d", aemmPort)
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	return waitIMDS(ctx, b.aemmURL)
}

// restartProvider (re)starts the dyndns2 test provider and its DNS server
// with the three peers and the given extra records, and returns the
// previous instance's counters.
func (b *bench) restartProvider(extra []string) error {
	if b.tp != nil {
		b.tp.stop()
	}
	argv := []string{b.opt.testpeers, "-http", tpHTTP, "-dns", tpDNS, "-zone", zone, "-user", username,
		"-password-file", filepath.Join(b.opt.out, "provider.secret")}
	for _, s := range append(append([]string(nil), peerSeeds...), extra...) {
		argv = append(argv, "-seed", s)
	}
	d, err := startDaemon("ec2boot-testpeers", argv, b.env, filepath.Join(b.opt.out, "testpeers.log"))
	if err != nil {
		return err
	}
	b.tp = d
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	_, err = d.waitLog(ctx, "ready http=")
	return err
}

// ensureAEMM restarts the emulator if it died (it is not safe for
// concurrent token requests).
func (b *bench) ensureAEMM() error {
	if b.aemm.alive() {
		return nil
	}
	b.res.Notes = append(b.res.Notes, "the IMDS emulator died during the run and was restarted")
	return b.startAEMM()
}

func (b *bench) resetCounters() {
	b.tl.Reset()
	b.imds.ResetRequests()
	b.provider.ResetRequests()
	b.dns.ResetRequests()
}

func (b *bench) setLatency(ms int) {
	d := time.Duration(ms) * time.Millisecond
	b.imds.SetDelay(d)
	b.provider.SetDelay(d)
	b.dns.SetDelay(d)
}

// ec2bootRun measures one `ec2boot run` under root.
func (b *bench) ec2bootRun(root string, extra ...string) (runRecord, error) {
	return b.runBinary(b.opt.ec2boot, root, extra...)
}

// runBinary measures one `run` of the given ec2boot binary under root.
func (b *bench) runBinary(bin, root string, extra ...string) (runRecord, error) {
	if err := b.ensureAEMM(); err != nil {
		return runRecord{}, err
	}
	before := snapshot(root)
	b.resetCounters()
	argv := append([]string{bin, "run", "--root", root, "--imds-endpoint", "http://" + b.imds.Addr,
		"--log-format", "json"}, extra...)
	s, err := measure(argv, b.env, root, filepath.Join(b.opt.out, "ec2boot.log"))
	if err != nil {
		return runRecord{}, err
	}
	r := runRecord{Sample: s, Written: diffTrees(before, snapshot(root)),
		IMDS: b.imds.Requests(), Provider: b.provider.Requests(), DNS: b.dns.Requests(),
		RoundTrips: latency.CriticalPath(b.tl.Trips()), ProxyLate: b.tl.Late()}
	return r, nil
}

// loadAvg is the 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
