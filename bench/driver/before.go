package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pkgInit is one package initialiser as GODEBUG=inittrace=1 reports it.
type pkgInit struct {
	Package string
	Clock   time.Duration
	Bytes   int64
	Allocs  int64
}

// parseInitTrace reads the runtime's inittrace lines ("init net/netip @0.81
// ms, 0.012 ms clock, 744 bytes, 18 allocs") from a program's stderr and
// ignores every other line.
func parseInitTrace(stderr []byte) []pkgInit {
	var out []pkgInit
	for _, l := range strings.Split(string(stderr), "\n") {
		f := strings.Fields(l)
		if len(f) != 11 || f[0] != "init" || !strings.HasPrefix(f[2], "@") || f[6] != "clock," ||
			f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		clock, err1 := strconv.ParseFloat(f[4], 64)
		bytes, err2 := strconv.ParseInt(f[7], 10, 64)
		allocs, err3 := strconv.ParseInt(f[9], 10, 64)
		// NaN and infinities parse as floats; an initialiser takes well under an hour.
		if err1 != nil || err2 != nil || err3 != nil || !(clock >= 0 && clock < 3.6e6) || bytes < 0 || allocs < 0 {
			continue
		}
		out = append(out, pkgInit{Package: f[1], Clock: time.Duration(clock * float64(time.Millisecond)),
			Bytes: bytes, Allocs: allocs})
	}
	return out
}

// initSummary is the medians over several runs of one binary's package
// initialisers: in all, and per module.
type initSummary struct {
	Runs     int
	Count    int
	Clock    time.Duration
	Bytes    int64
	ByModule []moduleInit
}

// moduleInit is the initialisers of one module (a third-party module, or a
// top directory of the standard library), medians over the runs.
type moduleInit struct {
	Module string
	Count  int
	Clock  time.Duration
	Bytes  int64
}

func summariseInits(runs [][]pkgInit) initSummary {
	s := initSummary{Runs: len(runs)}
	var clocks, bytes, counts []int64
	modClock := map[string][]int64{}
	modBytes := map[string]int64{}
	modCount := map[string]int{}
	for _, r := range runs {
		var c, b int64
		perMod, perModBytes := map[string]int64{}, map[string]int64{}
		n := map[string]int{}
		for _, p := range r {
			c += int64(p.Clock)
			b += p.Bytes
			m := moduleOf(p.Package)
			perMod[m] += int64(p.Clock)
			perModBytes[m] += p.Bytes
			n[m]++
		}
		for m, v := range perMod {
			modClock[m] = append(modClock[m], v)
			modCount[m] = max(modCount[m], n[m])
			modBytes[m] = max(modBytes[m], perModBytes[m])
		}
		clocks, bytes, counts = append(clocks, c), append(bytes, b), append(counts, int64(len(r)))
	}
	s.Clock, s.Bytes, s.Count = time.Duration(median(clocks)), median(bytes), int(median(counts))
	for m, v := range modClock {
		// A module missing from some runs counts zero there.
		for len(v) < len(runs) {
			v = append(v, 0)
		}
		s.ByModule = append(s.ByModule, moduleInit{Module: m, Count: modCount[m], Clock: time.Duration(median(v)), Bytes: modBytes[m]})
	}
	sort.Slice(s.ByModule, func(i, j int) bool {
		if s.ByModule[i].Clock != s.ByModule[j].Clock {
			return s.ByModule[i].Clock > s.ByModule[j].Clock
		}
		return s.ByModule[i].Module < s.ByModule[j].Module
	})
	return s
}

// moduleOf folds a package path to its module (host/owner/repo, or the
// first two elements of a gopkg.in-style path) or, in the standard
// library, its top directory; vendored copies count with the standard
// library.
func moduleOf(pkg string) string {
	if strings.HasPrefix(pkg, "github.com/ec2boot/ec2boot/") {
		return "ec2boot's own packages"
	}
	first, _, _ := strings.Cut(pkg, "/")
	if !strings.Contains(first, ".") {
		return first
	}
	return modulePath(pkg)
}

// modulePath guesses a third-party package's module from its path:
// host/owner/repo on the hosts that name modules so (github.com,
// golang.org/x), host/name elsewhere (google.golang.org/protobuf), with a
// major version suffix kept (go.yaml.in/yaml/v3).
func modulePath(pkg string) string {
	parts := strings.Split(pkg, "/")
	n := 2
	if parts[0] == "github.com" || parts[0] == "golang.org" {
		n = 3
	}
	if len(parts) > n && len(parts[n]) > 1 && parts[n][0] == 'v' && strings.Trim(parts[n][1:], "0123456789") == "" {
		n++
	}
	return strings.Join(parts[:min(n, len(parts))], "/")
}

// initTraces runs `version` of each binary n times with GODEBUG=inittrace=1.
func (b *bench) initTraces(n int) error {
	traces := map[string][][]pkgInit{}
	env := append(append([]string(nil), b.env...), "GODEBUG=inittrace=1")
	for i := 0; i < n; i++ {
		for _, bin := range b.binaries(i) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin.path, "version")
			cmd.Env, cmd.Stderr = env, &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s version with inittrace: %w", bin.path, err)
			}
			p := parseInitTrace(stderr.Bytes())
			if len(p) == 0 {
				return fmt.Errorf("%s version: no inittrace lines on stderr", bin.path)
			}
			traces[bin.prefix] = append(traces[bin.prefix], p)
		}
	}
	b.res.Inits = map[string]initSummary{}
	for k, v := range traces {
		b.res.Inits[k] = summariseInits(v)
	}
	return nil
}

// pairedRatio is the median, over the rounds, of after/before within each
// round (the two binaries ran back to back), and the middle half of those
// ratios: the comparison machine drift cancels out of.
func pairedRatio(after, before []runRecord, fig func(sample) float64) (med, lo, hi float64, ok bool) {
	n := min(len(after), len(before))
	var rs []float64
	for i := 0; i < n; i++ {
		if d := fig(before[i].Sample); d > 0 {
			rs = append(rs, fig(after[i].Sample)/d)
		}
	}
	if len(rs) == 0 {
		return 0, 0, 0, false
	}
	sort.Float64s(rs)
	q := func(p float64) float64 { return rs[int(p*float64(len(rs)-1)+0.5)] }
	return q(0.5), q(0.25), q(0.75), true
}

func wallOf(s sample) float64 { return float64(s.Wall) }
func cpuOf(s sample) float64  { return float64(s.CPU) }

// withinBase is how much slower than the reference a run may be.
const withinBase = 1.10

// baseGoals are the goals against the reference binary: the cold run and
// the no-change re-run (0 ms added latency, where the program's own cost
// is all there is) within 10% of it.
func (r *results) baseGoals() []goal {
	var gs []goal
	for _, k := range []struct{ key, what string }{{"cold@0", "cold run"}, {"nochange@0", "no-change re-run"}} {
		med, lo, hi, ok := pairedRatio(r.Runs[k.key], r.Runs[basePrefix+k.key], wallOf)
		cpu, _, _, okCPU := pairedRatio(r.Runs[k.key], r.Runs[basePrefix+k.key], cpuOf)
		a, _ := r.sum(k.key)
		bs, _ := r.sum(basePrefix + k.key)
		gs = append(gs, goal{
			What: fmt.Sprintf("%s within 10%% of %s's (0 ms latency; wall and CPU)", k.what, r.BaseRev),
			// Both: on a shared machine the wall time of one round can
			// hide a cost the CPU time shows, and the other way round.
			Met:   ok && okCPU && med <= withinBase && cpu <= withinBase,
			Known: ok,
			Measured: fmt.Sprintf("wall %s vs %s: %s (paired median of %d rounds; middle half %.2fx-%.2fx); CPU %s",
				ms(a.Wall), ms(bs.Wall), pct(med), min(a.N, bs.N), lo, hi, pct(cpu)),
		})
	}
	return gs
}

// pct is a ratio as a signed percentage.
func pct(ratio float64) string { return fmt.Sprintf("%+.1f%%", (ratio-1)*100) }

// beforeAfter is section 0: the reference binary against the current one.
func (r *results) beforeAfter() string {
	if _, ok := r.sum(basePrefix + "cold@0"); !ok {
		return ""
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	after := r.Machine.Versions["ec2boot"]
	w("| figure | before (`%s`) | after (`%s`) | after vs before | goal |\n|---|---|---|---|---|\n", r.BaseRev, after)
	goalOf := map[string]goal{}
	for i, g := range r.baseGoals() {
		goalOf[[]string{"cold@0", "nochange@0"}[i]] = g
	}
	verdict := func(g goal, ok bool) string {
		switch {
		case !ok:
			return "–"
		case !g.Known:
			return "not measured"
		case g.Met:
			return "within 10%: met"
		}
		return "within 10%: **missed**"
	}
	rows := []struct{ key, label string }{
		{"cold@0", "cold boot run, 0 ms"}, {"cold@1", "cold boot run, 1 ms"}, {"cold@5", "cold boot run, 5 ms"},
		{"nochange@0", "no-change re-run, 0 ms"}, {"nochange@1", "no-change re-run, 1 ms"}, {"nochange@5", "no-change re-run, 5 ms"},
	}
	for _, row := range rows {
		a, ok1 := r.sum(row.key)
		bs, ok2 := r.sum(basePrefix + row.key)
		if !ok1 || !ok2 {
			continue
		}
		med, _, _, _ := pairedRatio(r.Runs[row.key], r.Runs[basePrefix+row.key], wallOf)
		g, ok := goalOf[row.key]
		w("| %s: wall | %s | %s | %s | %s |\n", row.label, ms(bs.Wall), ms(a.Wall), pct(med), verdict(g, ok))
		if ok {
			cpu, _, _, _ := pairedRatio(r.Runs[row.key], r.Runs[basePrefix+row.key], cpuOf)
			w("| %s: CPU | %s | %s | %s | (with the wall time) |\n", row.label, ms(bs.CPU), ms(a.CPU), pct(cpu))
		}
	}
	for _, k := range []struct{ key, label string }{{"cold@0", "cold boot run, 0 ms"}, {"nochange@0", "no-change re-run, 0 ms"}} {
		a, bs := r.inProcess(k.key), r.inProcess(basePrefix+k.key)
		if a > 0 && bs > 0 {
			w("| %s: the run in-process (its status file), without process start and exit | %.1f ms | %.1f ms | %+.1f ms | – |\n",
				k.label, bs, a, a-bs)
		}
	}
	peak := func(prefix, kind string) int64 {
		var p int64
		for _, l := range []int{0, 1, 5} {
			for _, x := range r.Runs[fmt.Sprintf("%s%s@%d", prefix, kind, l)] {
				p = max(p, x.Sample.MaxRSSKiB)
			}
		}
		return p
	}
	for _, k := range []struct{ kind, label string }{{"cold", "cold boot run"}, {"nochange", "no-change re-run"}} {
		a, bs := peak("", k.kind), peak(basePrefix, k.kind)
		res := "under 12 MiB: met"
		if a >= 12*1024 {
			res = "under 12 MiB: **missed**"
		}
		w("| %s: peak RSS, highest of all runs | %s | %s | %+.1f MiB | %s |\n", k.label, mib(bs), mib(a), float64(a-bs)/1024, res)
	}
	for _, k := range []struct{ kind, label string }{{"cold", "cold boot run"}, {"nochange", "no-change re-run"}, {"version", "`ec2boot version`"}} {
		a, ok1 := r.RSSAtExit[k.kind]
		bs, ok2 := r.RSSAtExit[basePrefix+k.kind]
		if !ok1 || !ok2 {
			continue
		}
		ma, mb := medianRSS(a), medianRSS(bs)
		w("| %s: resident at exit, heap and stacks + the binary's file pages (peak) | %s + %s (%s) | %s + %s (%s) | %+.1f + %+.1f MiB | – |\n",
			k.label, mib(mb.AnonKiB), mib(mb.FileKiB), mib(mb.PeakKiB), mib(ma.AnonKiB), mib(ma.FileKiB), mib(ma.PeakKiB),
			float64(ma.AnonKiB-mb.AnonKiB)/1024, float64(ma.FileKiB-mb.FileKiB)/1024)
	}
	v, bv := r.get("version"), r.get(basePrefix+"version")
	vm, _, _, _ := pairedRatio(r.Runs["version"], r.Runs[basePrefix+"version"], wallOf)
	w("| `ec2boot version`: wall | %s | %s | %s | – (a figure) |\n", ms(bv.Wall), ms(v.Wall), pct(vm))
	w("| `ec2boot version`: peak RSS | %s | %s | %+.1f MiB | – |\n", mib(bv.RSSKiB), mib(v.RSSKiB), float64(v.RSSKiB-bv.RSSKiB)/1024)
	w("| `ec2boot version`: minor page faults | %d | %d | %+d | – |\n", bv.MinFlt, v.MinFlt, v.MinFlt-bv.MinFlt)
	if ia, ok := r.Inits[""]; ok {
		ib := r.Inits[basePrefix]
		w("| package initialisers (GODEBUG=inittrace=1, median of %d runs) | %d, %s, %d heap bytes | %d, %s, %d heap bytes | %+d, %+.2f ms, %+d bytes | – |\n",
			ia.Runs, ib.Count, ms3(ib.Clock), ib.Bytes, ia.Count, ms3(ia.Clock), ia.Bytes,
			ia.Count-ib.Count, float64(ia.Clock-ib.Clock)/float64(time.Millisecond), ia.Bytes-ib.Bytes)
	}
	if ne, bne := r.get("not-ec2"), r.get(basePrefix+"not-ec2"); ne.N > 0 && bne.N > 0 {
		m, _, _, _ := pairedRatio(r.Runs["not-ec2"], r.Runs[basePrefix+"not-ec2"], wallOf)
		w("| run off EC2 (clear exit 3): wall | %s | %s | %s | – |\n", ms(bne.Wall), ms(ne.Wall), pct(m))
	}
	w("| binary size (static, stripped) | %d bytes (%.2f MiB) | %d bytes (%.2f MiB) | %+.2f MiB (%s) | – (a figure) |\n\n",
		r.BaseBinaryBytes, float64(r.BaseBinaryBytes)/(1<<20), r.BinaryBytes, float64(r.BinaryBytes)/(1<<20),
		float64(r.BinaryBytes-r.BaseBinaryBytes)/(1<<20), pct(float64(r.BinaryBytes)/float64(max(r.BaseBinaryBytes, 1))))
	return b.String()
}

// initTable lists the modules whose initialisers cost the most in either
// binary, before and after.
func (r *results) initTable(n int) string {
	ia, ok1 := r.Inits[""]
	ib, ok2 := r.Inits[basePrefix]
	if !ok1 || !ok2 {
		return ""
	}
	before := map[string]moduleInit{}
	for _, m := range ib.ByModule {
		before[m.Module] = m
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| module or standard-library directory | before: inits, clock, heap bytes | after: inits, clock, heap bytes |\n|---|---|---|\n")
	seen := map[string]bool{}
	rows := 0
	for _, m := range ia.ByModule {
		if rows == n {
			break
		}
		seen[m.Module] = true
		bs := "–"
		if x, ok := before[m.Module]; ok {
			bs = fmt.Sprintf("%d, %s, %d", x.Count, ms3(x.Clock), x.Bytes)
		}
		fmt.Fprintf(&b, "| %s | %s | %d, %s, %d |\n", m.Module, bs, m.Count, ms3(m.Clock), m.Bytes)
		rows++
	}
	for _, m := range ib.ByModule {
		if !seen[m.Module] && !hasModule(ia.ByModule, m.Module) {
			fmt.Fprintf(&b, "| %s | %d, %s, %d | – |\n", m.Module, m.Count, ms3(m.Clock), m.Bytes)
		}
	}
	return b.String()
}

func hasModule(ms []moduleInit, m string) bool {
	for _, x := range ms {
		if x.Module == m {
			return true
		}
	}
	return false
}

// sizeDiffTable is the size by package group, before and after, the
// largest changes first.
func (r *results) sizeDiffTable(n int) string {
	if len(r.BaseSizeByPackage) == 0 || len(r.SizeByPackage) == 0 {
		return ""
	}
	type row struct {
		group         string
		before, after int64
	}
	m := map[string]*row{}
	for _, p := range r.BaseSizeByPackage {
		m[p.Package] = &row{group: p.Package, before: p.Bytes}
	}
	for _, p := range r.SizeByPackage {
		if x, ok := m[p.Package]; ok {
			x.after = p.Bytes
		} else {
			m[p.Package] = &row{group: p.Package, after: p.Bytes}
		}
	}
	var rows []*row
	var tb, ta int64
	for _, x := range m {
		rows = append(rows, x)
		tb, ta = tb+x.before, ta+x.after
	}
	abs := func(v int64) int64 { return max(v, -v) }
	sort.Slice(rows, func(i, j int) bool {
		di, dj := abs(rows[i].after-rows[i].before), abs(rows[j].after-rows[j].before)
		if di != dj {
			return di > dj
		}
		return rows[i].group < rows[j].group
	})
	var b strings.Builder
	fmt.Fprintf(&b, "| package group | before | after | difference |\n|---|---|---|---|\n")
	for i, x := range rows {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %+d |\n", x.group, x.before, x.after, x.after-x.before)
	}
	fmt.Fprintf(&b, "| (all, unstripped) | %d | %d | %+d |\n", tb, ta, ta-tb)
	return b.String()
}

func (r *results) get(k string) summary { s, _ := r.sum(k); return s }

// ms3 is a duration in milliseconds with three decimals, for initialisers.
func ms3(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Nanoseconds())/1e6) }

// beforeAfterSection is section 0 of the document: the table, the
// initialisers and the size by package, and what the difference is made of.
func (r *results) beforeAfterSection() string {
	table := r.beforeAfter()
	if table == "" {
		return ""
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	c0 := r.get("cold@0")
	w("## 0. Before and after\n\n")
	w("`make bench` builds the reference revision `BENCH_BASE` (default `505cc3a`, the state before the current\n")
	w("round of library changes; this run: `%s`) from this repository's history with that revision's own\n", r.BaseRev)
	w("Makefile, and runs it next to the current binary: in every round of section 1 both binaries do the cold\n")
	w("run and the no-change re-run on fresh roots of their own against the same peers, one right after the\n")
	w("other, the order alternating between rounds (%d rounds per latency); `ec2boot version`, the package\n", c0.N)
	w("initialisers and the run off EC2 alternate the same way. **after vs before** is the median over the\n")
	w("rounds of the ratio within each round, so that what the shared machine was doing at a given moment\n")
	w("falls on both; the medians of each binary's own runs are the two columns before it. The goals: the\n")
	w("cold run and the no-change re-run within 10%% of the reference at 0 ms added latency (where the\n")
	w("program's own cost is all there is to measure; latency adds the same waiting to both), in wall time\n")
	w("and in CPU time both, and peak RSS under 12 MiB. Binary size and start-up cost are figures, not goals.\n\n")
	w("%s", table)
	if t := r.initTable(14); t != "" {
		w("Package initialisers by module (`GODEBUG=inittrace=1 ec2boot version`, medians of %d runs of each binary;\n", r.Inits[""].Runs)
		w("`inits` counts the packages of the module that have an initialiser, heap bytes are the most one run\n")
		w("allocated in them):\n\n%s\n", t)
	}
	if t := r.sizeDiffTable(12); t != "" {
		w("Where the bytes went (unstripped builds of both trees with their own tags, grouped as in section 6;\n")
		w("the largest changes first):\n\n%s\n", t)
	}
	w("%s", r.regressionAnalysis())
	return b.String()
}

// regressionAnalysis says where the difference between the two binaries
// comes from: this run's figures, and what was found by hand (dated).
func (r *results) regressionAnalysis() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	n, bn := medianRSS(r.RSSAtExit["nochange"]), medianRSS(r.RSSAtExit[basePrefix+"nochange"])
	c, bc := medianRSS(r.RSSAtExit["cold"]), medianRSS(r.RSSAtExit[basePrefix+"cold"])
	v, bv := medianRSS(r.RSSAtExit["version"]), medianRSS(r.RSSAtExit[basePrefix+"version"])
	n0, bn0 := r.get("nochange@0"), r.get(basePrefix+"nochange@0")
	ia, ib := r.Inits[""], r.Inits[basePrefix]
	w("**Where the difference comes from.**\n\n")
	if n.PeakKiB > 0 && bn.PeakKiB > 0 {
		w("- **Peak RSS is the binary's pages, not the heap.** As it exits, the no-change run holds %s of\n", mib(n.AnonKiB))
		w("  anonymous memory (heap, stacks) and %s of the binary's file pages (before: %s and %s); the cold\n", mib(n.FileKiB), mib(bn.AnonKiB), mib(bn.FileKiB))
		w("  run %s and %s (before: %s and %s). Of the no-change run's %+.1f MiB, %+.1f MiB are file pages.\n",
			mib(c.AnonKiB), mib(c.FileKiB), mib(bc.AnonKiB), mib(bc.FileKiB), float64(n.PeakKiB-bn.PeakKiB)/1024, float64(n.FileKiB-bn.FileKiB)/1024)
		w("  The kernel maps a program's file pages as they are touched, and 64 KiB around each fault (fault-around),\n")
		w("  so the resident part of the binary grows with its size, not only with the code that runs: `ec2boot\n")
		w("  version` alone holds %s of file pages (before: %s) of a %.2f MiB file. File pages are shared with\n", mib(v.FileKiB), mib(bv.FileKiB), float64(r.BinaryBytes)/(1<<20))
		w("  the page cache and are the first memory the kernel takes back, but they count in RSS.\n")
	}
	w("- **The binary: %+.2f MiB.** ", float64(r.BinaryBytes-r.BaseBinaryBytes)/(1<<20))
	if mods := r.newModules(); len(mods) > 0 {
		w("The new modules' own code and data (unstripped symbols): %s; each also adds its share of the\n", strings.Join(mods, ", "))
		w("  pc-line, type and string tables (the first row of the size table). ")
	}
	w("One part is not a library's code but a side effect, found on\n")
	w("  2026-12-07 by building main at 8f1a704 (before the Prometheus and AWS libraries) with its two template\n")
	w("  executions, in bootstrap/render and bootstrap/names, stubbed out: 11,481,250 bytes became 9,556,130, so\n")
	w("  **executing `text/template` cost 1.84 MiB** of that binary, and `ec2boot version`'s peak RSS went from 8.0\n")
	w("  to 7.2 MiB. `reflect.Value.MethodByName`, which the template executor calls with names known only at run\n")
	w("  time, makes the linker keep every exported method of every type that can be converted to an interface:\n")
	w("  functions in the unstripped binary were 8,080 at 505cc3a, 12,569 at 8f1a704 and 9,375 without template\n")
	w("  execution; zerolog's code alone was 29 KB without it and 163 KB with it, miekg/dns's 244 KB and 328 KB.\n")
	w("  505cc3a rendered templates without `text/template`'s executor, so the effect is new in this round, and\n")
	w("  every library added since has more exported methods for it to keep.\n")
	if ia.Runs > 0 && ib.Runs > 0 {
		w("- **Package initialisers: %+d packages, %+.2f ms, %+d heap bytes** (table above).",
			ia.Count-ib.Count, float64(ia.Clock-ib.Clock)/float64(time.Millisecond), ia.Bytes-ib.Bytes)
		if mods := r.newInitModules(4); len(mods) > 0 {
			w(" The new modules' initialisers:\n  %s.", strings.Join(mods, "; "))
		}
		w(" go.yaml.in/yaml compiles its regular expressions\n")
		w("  and resolve tables, miekg/dns fills its type maps, ec2boot's own validators (facts, hosts, ec2detect,\n")
		w("  config) compile theirs")
		if pc, pb := r.initsOf("github.com/prometheus/client_golang"); pc > 0 {
			w(", and client_golang's `prometheus` package builds its default registry with the Go and\n")
			w("  process collectors, whether or not the run writes metrics (%s, %d heap bytes)", ms3(pc), pb)
		}
		w(". %s in all: start-up time is\n  mostly the binary's pages, not its initialisers.\n", ms(ia.Clock))
	}
	if n0.N > 0 && bn0.N > 0 {
		v0, bv0 := r.get("version"), r.get(basePrefix+"version")
		cpu, _, _, _ := pairedRatio(r.Runs["nochange@0"], r.Runs[basePrefix+"nochange@0"], cpuOf)
		w("- **The no-change run's CPU: %s against %s (%s, paired).** It is made of three things:\n",
			ms(n0.CPU), ms(bn0.CPU), pct(cpu))
		w("  the start of a larger binary (`ec2boot version`: %s against %s of CPU, %d minor page faults against %d;\n",
			ms(v0.CPU), ms(bv0.CPU), v0.MinFlt, bv0.MinFlt)
		w("  the no-change run faults %d times against %d), the initialisers above, and more work per run: %d IMDS\n",
			n0.MinFlt, bn0.MinFlt, n0.IMDS)
		w("  requests and %d DNS queries against %d and %d", n0.DNS, bn0.IMDS, bn0.DNS)
		if n0.IMDS > bn0.IMDS {
			w(", the IMDS requests for the fleet facts (tags, launch index, life cycle,\n  Auto Scaling state, launch time)")
		}
		if a, bs := r.inProcess("nochange@0"), r.inProcess(basePrefix+"nochange@0"); a > 0 && bs > 0 {
			w(". Measured inside the process (its status file), the run itself takes %.1f ms against %.1f ms:\n", a, bs)
			w("  of the %+.1f ms of wall time, %+.1f ms are the run and the rest starting and leaving the process", ms0(n0.Wall-bn0.Wall), a-bs)
		}
		w(". The in-process profile (below) shows no library of this round as a cost of its own in the run.\n")
	}
	w("- **The cold run's CPU** had doubled: the relocation's content checksum allocated a 1 MiB buffer for\n")
	w("  every file it summed (twice per relocated file: about 60 MiB of allocation and zeroing per run here).\n")
	w("  **Changed** (bootstrap/relocate, `bufFor`): the buffer grows to the largest data extent read;\n")
	w("  measured by this benchmark against the commit before it: cold-run CPU -54%%, the cold runs' highest peak\n")
	w("  RSS 25.3 -> 15.0 MiB; `TestContentSumBufferFitsTheFile` pins the allocation.")
	if c0, bc0 := r.get("cold@0"), r.get(basePrefix+"cold@0"); c0.N > 0 && bc0.N > 0 {
		cpu, _, _, _ := pairedRatio(r.Runs["cold@0"], r.Runs[basePrefix+"cold@0"], cpuOf)
		w(" What is left\n  (%s against %s of CPU, %s) is the no-change run's costs above, in a run that faults %d times\n",
			ms(c0.CPU), ms(bc0.CPU), pct(cpu), c0.MinFlt)
		w("  against %d.", bc0.MinFlt)
	}
	w("\n\n")
	w("**What would win it back.** Peak RSS under 12 MiB again needs a smaller binary (or fewer of its pages\n")
	w("touched) more than a smaller heap")
	if n.PeakKiB > 0 && bn.PeakKiB > 0 {
		w(": in the no-change run the file pages grew by %.1f MiB, the anonymous\npart by %.1f MiB",
			float64(n.FileKiB-bn.FileKiB)/1024, float64(n.AnonKiB-bn.AnonKiB)/1024)
	}
	w(". In order of effect:\n\n")
	w("1. Template execution without `MethodByName` (1.84 MiB of binary; about 0.8 MiB of `version`'s peak):\n")
	w("   the templates would lose method calls on their data, a user-visible change of the template language\n")
	w("   that docs/config.md describes, so it is the render owner's and the product's call, not a cheap fix:\n")
	w("   nothing on ec2boot's side of the call can turn the linker's rule off while `text/template` executes.\n")
	w("2. Fewer exported methods in the binary, which matters as long as (1) holds: miekg/dns is the largest\n")
	w("   library (every record type's methods are kept); the client of 505cc3a used\n")
	w("   golang.org/x/net/dns/dnsmessage, which is a fraction of its size, at the price of the framing and\n")
	w("   checks miekg/dns does for us.\n")
	w("3. Lazy initialisation cannot help: a Go package's `init` runs when the binary starts if the package\n")
	w("   is linked at all, whatever path the run takes; only leaving the import out of the binary removes it.\n")
	if c, bytes := r.initsOf("github.com/aws/"); c > 0 {
		w("   The AWS SDK's initialisers take %s and %d heap bytes in this run; the rest allocate a few hundred\n", ms3(c), bytes)
		w("   KB and take about a millisecond.\n")
	}
	w("\n")
	w("**Done in this round** (each measured with `ec2boot version` on static stripped builds, against the\n")
	w("commit before it):\n\n")
	w("- **Metrics without client_golang** (bootstrap/metrics): the `client_model` families are built directly\n")
	w("  and encoded with `expfmt`; importing client_golang's `prometheus` package had run its `init` (a default\n")
	w("  registry with the Go and process collectors) on every start and linked the registry, procfs, perks\n")
	w("  and xxhash. Binary 21,430,537 -> 21,070,089 bytes; initialisers 172 -> 167 packages, 1.23 -> 1.05 MB\n")
	w("  of heap. The protobuf runtime stays, as client_model's types and expfmt use it. `TestEncodeGolden`\n")
	w("  holds the text written by the registry before the change, byte for byte.\n")
	w("- **AWS configuration built explicitly** (bootstrap/awsconfig, used by bootstrap/ddns/route53 and\n")
	w("  bootstrap/peers): `config.LoadDefaultConfig` linked every credential source the SDK knows (SSO, SSO\n")
	w("  OIDC, STS, sign-in), each a service client with endpoint tables and schemas built at start. The\n")
	w("  configuration now reads the environment's keys or the instance role (`credentials/ec2rolecreds` on\n")
	w("  the metadata endpoint ec2boot read its facts from) and the `AWS_ENDPOINT_URL_*` overrides, nothing\n")
	w("  else (docs/dns.md, docs/peers.md). Binary 21,070,089 -> 18,284,809 bytes; initialisers 167 -> 148\n")
	w("  packages, 1.05 -> 0.44 MB of heap; `TestBinaryLinksNoOtherCredentialSource` keeps the other sources out.\n\n")
	if n0.IMDS > bn0.IMDS {
		w("The no-change run's time would also come back with fewer requests: the fleet facts fetched only\n")
		w("when a name template, a template or the configuration uses them (%d IMDS requests against %d): the\n", n0.IMDS, bn0.IMDS)
		w("owner's design call (bootstrap/facts), not a cheap fix, and left to it.\n\n")
	}
	w("The time goals are judged at 0 ms added latency, where only the program's own cost is measured. On\n")
	w("this shared 2-CPU machine the wall time of the cold run depends on other work's disk writes (every\n")
	w("atomic write fsyncs); the CPU rows move less and say the same or more plainly.\n\n")
	return b.String()
}

// newModules are the third-party modules the current binary links and the
// reference does not, with the size of their symbols, largest first.
func (r *results) newModules() []string {
	before := map[string]bool{}
	for _, p := range r.BaseSizeByPackage {
		before[p.Package] = p.Bytes > 0
	}
	var out []string
	for _, p := range r.SizeByPackage { // largest first already
		if !before[p.Package] && strings.Contains(p.Package, ".") && strings.Contains(p.Package, "/") && p.Bytes >= 10000 {
			out = append(out, fmt.Sprintf("%s %d KB", p.Package, (p.Bytes+500)/1000))
		}
	}
	return out
}

// newInitModules are the n costliest initialisers of modules the reference
// does not have.
func (r *results) newInitModules(n int) []string {
	before := map[string]bool{}
	for _, m := range r.Inits[basePrefix].ByModule {
		before[m.Module] = true
	}
	var out []string
	for _, m := range r.Inits[""].ByModule { // costliest first
		if !before[m.Module] && len(out) < n {
			out = append(out, fmt.Sprintf("%s %s, %d bytes", m.Module, ms3(m.Clock), m.Bytes))
		}
	}
	return out
}

// initsOf sums the current binary's initialisers of the modules with
// these prefixes.
func (r *results) initsOf(prefixes ...string) (time.Duration, int64) {
	var c time.Duration
	var b int64
	for _, m := range r.Inits[""].ByModule {
		for _, p := range prefixes {
			if strings.HasPrefix(m.Module, p) {
				c, b = c+m.Clock, b+m.Bytes
				break
			}
		}
	}
	return c, b
}

// inProcess is the median of a key's runs' whole-run duration as the run's
// own status file records it (ms), or 0.
func (r *results) inProcess(key string) float64 {
	var v []int64
	for _, x := range r.Runs[key] {
		if d, ok := x.Steps["(whole run, in-process)"]; ok {
			v = append(v, int64(d*1000))
		}
	}
	if len(v) == 0 {
		return 0
	}
	return float64(median(v)) / 1000
}

// ms0 is a duration in milliseconds.
func ms0(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
