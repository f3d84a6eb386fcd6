package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

type machine struct {
	CPU, Kernel, Memory, OS string
	GOOS, GOARCH            string
	CPUs                    int
	Versions                map[string]string
}

type lateRecord struct {
	TMS    int
	AfterT time.Duration
	Sample sample
}

type pkgSize struct {
	Package string
	Bytes   int64
}

type results struct {
	Started, Finished time.Time
	Machine           machine
	Runs              map[string][]runRecord
	Late              []lateRecord
	ColdTrips         []string
	BinaryBytes       int64
	SizeByPackage     []pkgSize
	// The reference binary ("before"): its revision, size, size by package
	// and the package initialisers of both binaries.
	BaseRev           string
	BaseBinaryBytes   int64
	BaseSizeByPackage []pkgSize
	Inits             map[string]initSummary `json:",omitempty"`
	// RSSAtExit is the resident set of extra runs as they exit, by
	// prefix+"cold", prefix+"nochange", prefix+"version".
	RSSAtExit map[string][]rssSplit `json:",omitempty"`
	SizeRefs  []pkgSize
	Fleet     json.RawMessage `json:",omitempty"`
	GoBench   string          `json:",omitempty"`
	// Discover is bench/fleet -discover's Markdown output.
	Discover  string `json:",omitempty"`
	LoadStart string
	LoadEnd   string
	Notes     []string
}

// addIf records rec when ok (warm-up runs are not recorded).
func (r *results) addIf(ok bool, key string, rec runRecord) {
	if ok {
		r.add(key, rec)
	}
}

func (r *results) add(key string, rec runRecord) {
	if r.Runs == nil {
		r.Runs = map[string][]runRecord{}
	}
	r.Runs[key] = append(r.Runs[key], rec)
}

// summary is the median of each figure over a key's runs, and the worst
// case of what must be zero.
type summary struct {
	N                   int
	Wall, CPU           time.Duration
	RSSKiB, MinFlt      int64
	IMDS, Provider, DNS int64
	RoundTrips          int
	ProxyLate           time.Duration
	MaxBytes, MaxFiles  int64
	MaxRunBytes         int64
	WriteBytes          int64
	RCs                 string
	MaxProvider         int64
	WrittenPaths        []string
}

func (r *results) sum(key string) (summary, bool) {
	rs := r.Runs[key]
	if len(rs) == 0 {
		return summary{}, false
	}
	s := summary{N: len(rs)}
	var walls, cpus []time.Duration
	var rss, flt, imds, prov, dns, rt, wb, late []int64
	rcs := map[int]int{}
	for _, x := range rs {
		walls = append(walls, x.Sample.Wall)
		cpus = append(cpus, x.Sample.CPU)
		rss = append(rss, x.Sample.MaxRSSKiB)
		flt = append(flt, x.Sample.MinFlt)
		imds = append(imds, x.IMDS)
		prov = append(prov, x.Provider)
		dns = append(dns, x.DNS)
		rt = append(rt, int64(x.RoundTrips))
		wb = append(wb, x.Sample.WriteBytes)
		late = append(late, int64(x.ProxyLate))
		rcs[x.Sample.RC]++
		s.MaxBytes = max(s.MaxBytes, x.Written.Bytes)
		s.MaxFiles = max(s.MaxFiles, x.Written.Files)
		s.MaxRunBytes = max(s.MaxRunBytes, x.Written.RunBytes)
		s.MaxProvider = max(s.MaxProvider, x.Provider)
		if len(x.Written.Paths) > len(s.WrittenPaths) {
			s.WrittenPaths = x.Written.Paths
		}
	}
	s.Wall, s.CPU = medianD(walls), medianD(cpus)
	s.RSSKiB, s.MinFlt = median(rss), median(flt)
	s.IMDS, s.Provider, s.DNS = median(imds), median(prov), median(dns)
	s.RoundTrips = int(median(rt))
	s.WriteBytes = median(wb)
	s.ProxyLate = time.Duration(median(late))
	var codes []string
	for c, n := range rcs {
		codes = append(codes, fmt.Sprintf("%d×%d", n, c))
	}
	sort.Strings(codes)
	s.RCs = strings.Join(codes, " ")
	return s, true
}

func median(v []int64) int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianD(v []time.Duration) time.Duration {
	x := make([]int64, len(v))
	for i, d := range v {
		x[i] = int64(d)
	}
	return time.Duration(median(x))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
func mib(kib int64) string      { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
func ratio(a, b time.Duration) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// goal is one of the stated goals, checked against this run.
type goal struct {
	What, Measured string
	Met            bool
	Known          bool
}

func (r *results) goals() []goal {
	var gs []goal
	get := func(k string) summary { s, _ := r.sum(k); return s }
	add := func(what string, ok bool, known bool, format string, a ...any) {
		gs = append(gs, goal{What: what, Met: ok, Known: known, Measured: fmt.Sprintf(format, a...)})
	}
	full, inNoop := get("ec2boot-full-noop"), get("inadyn-noop")
	add("no-change re-run faster than inadyn's no-op", full.Wall < inNoop.Wall, full.N > 0 && inNoop.N > 0,
		"ec2boot %s vs inadyn %s (%s)", ms(full.Wall), ms(inNoop.Wall), ratio(full.Wall, inNoop.Wall))
	cold, inForced := get("cold@0"), get("inadyn-forced@0")
	add("cold run within 1.5x of inadyn's forced update", float64(cold.Wall) <= 1.5*float64(inForced.Wall),
		cold.N > 0 && inForced.N > 0, "ec2boot %s vs inadyn %s (%s)", ms(cold.Wall), ms(inForced.Wall), ratio(cold.Wall, inForced.Wall))
	dnsF, ddcF := get("ec2boot-dns-forced"), get("ddclient-forced")
	dnsN, ddcN := get("ec2boot-dns-noop"), get("ddclient-noop")
	add("at least 5x faster than ddclient", 5*dnsF.Wall <= ddcF.Wall && 5*dnsN.Wall <= ddcN.Wall, dnsF.N > 0 && ddcF.N > 0,
		"forced: ddclient %s / ec2boot %s = %.1fx; no-op: ddclient %s / ec2boot %s = %.1fx",
		ms(ddcF.Wall), ms(dnsF.Wall), float64(ddcF.Wall)/float64(max(dnsF.Wall, 1)),
		ms(ddcN.Wall), ms(dnsN.Wall), float64(ddcN.Wall)/float64(max(dnsN.Wall, 1)))
	c5 := get("cold@5")
	over := c5.Wall - time.Duration(c5.RoundTrips)*5*time.Millisecond
	add("over the network floor by under 10 ms at 5 ms latency", over < 10*time.Millisecond, c5.N > 0,
		"%s - %d round trips x 5 ms = %s over the floor (of which the latency proxy's own timer slack: about %s)",
		ms(c5.Wall), c5.RoundTrips, ms(over), ms(time.Duration(c5.RoundTrips)*c5.ProxyLate))
	var worstLate time.Duration
	var lates []time.Duration
	for _, l := range r.Late {
		worstLate = max(worstLate, l.AfterT)
		lates = append(lates, l.AfterT)
	}
	medLate := medianD(lates)
	add("IMDS late at boot: finished under 50 ms after it answers", medLate < 50*time.Millisecond, len(r.Late) > 0,
		"median of %d runs (T = 250 ms to 3 s): %s after T (worst %s)", len(r.Late), ms(medLate), ms(worstLate))
	var peak int64
	var where string
	for k, rs := range r.Runs {
		if !isEc2boot(k) {
			continue
		}
		for _, x := range rs {
			if x.Sample.MaxRSSKiB > peak {
				peak, where = x.Sample.MaxRSSKiB, k
			}
		}
	}
	add("peak RSS under 12 MiB", peak < 12*1024, peak > 0, "highest of every ec2boot run: %s (%s)", mib(peak), where)
	if _, ok := r.sum(basePrefix + "cold@0"); ok {
		gs = append(gs, r.baseGoals()...)
	}
	return gs
}

func isEc2boot(k string) bool {
	return strings.HasPrefix(k, "cold@") || strings.HasPrefix(k, "nochange@") || strings.HasPrefix(k, "ec2boot-") ||
		k == "not-ec2" || k == "version"
}

// table is the console summary.
func (r *results) table() string {
	var b strings.Builder
	b.WriteString(r.runTable())
	b.WriteString("\n")
	b.WriteString(r.compareTable())
	b.WriteString("\n")
	b.WriteString(r.goalTable())
	if t := r.beforeAfter(); t != "" {
		b.WriteString("\n")
		b.WriteString(t)
	}
	return b.String()
}

func (r *results) runTable() string {
	var b strings.Builder
	b.WriteString("| run | latency | wall (median) | round trips on the critical path | network floor | over the floor | IMDS requests | provider requests | DNS queries | bytes written (files) | /run bytes | write_bytes | peak RSS | exit |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, kind := range []string{"cold", "nochange"} {
		for _, l := range []int{0, 1, 5} {
			s, ok := r.sum(fmt.Sprintf("%s@%d", kind, l))
			if !ok {
				continue
			}
			name := map[string]string{"cold": "cold boot run", "nochange": "no-change re-run"}[kind]
			floor := time.Duration(s.RoundTrips*l) * time.Millisecond
			rt, fl, over := fmt.Sprint(s.RoundTrips), ms(floor), ms(s.Wall-floor)
			if l == 0 {
				rt, fl, over = "–", "0", ms(s.Wall)
			}
			fmt.Fprintf(&b, "| %s | %d ms | %s | %s | %s | %s | %d | %d | %d | %d B (%d) | %d B | %d B | %s | %s |\n",
				name, l, ms(s.Wall), rt, fl, over, s.IMDS, s.Provider, s.DNS, s.MaxBytes, s.MaxFiles, s.MaxRunBytes,
				s.WriteBytes, mib(s.RSSKiB), s.RCs)
		}
	}
	return b.String()
}

func (r *results) compareTable() string {
	var b strings.Builder
	b.WriteString("| job (two names, loopback provider, 0 ms) | wall (median) | CPU | peak RSS | provider requests | exit | vs ec2boot |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	base := map[string]string{"ddclient-forced": "ec2boot-dns-forced", "inadyn-forced": "ec2boot-dns-forced",
		"ddclient-noop": "ec2boot-dns-noop", "inadyn-noop": "ec2boot-dns-noop", "cloud-init-hosts": "ec2boot-hosts",
		"inadyn-forced@0": "cold@0"}
	rows := []struct{ key, label string }{
		{"ec2boot-dns-forced", "ec2boot run --force (two names only: IMDS + 2 requests)"},
		{"inadyn-forced", "inadyn --once --force (2 requests)"},
		{"ddclient-forced", "ddclient -force (2 requests)"},
		{"ec2boot-dns-noop", "ec2boot run, nothing changed (two names only: IMDS + DNS check)"},
		{"ec2boot-full-noop", "ec2boot run, nothing changed (the whole boot job)"},
		{"inadyn-noop", "inadyn --once, no-op (cache)"},
		{"ddclient-noop", "ddclient, no-op (cache)"},
		{"cold@0", "ec2boot cold boot run (the whole job), from section 1"},
		{"inadyn-forced@0", "inadyn --once --force, interleaved with the cold runs"},
		{"ec2boot-hosts", "ec2boot run, hosts block only (facts + /etc/hosts)"},
		{"cloud-init-hosts", "cloud-init single --name update_etc_hosts"},
		{"version", "ec2boot version (startup cost)"},
		{"not-ec2", "ec2boot run off EC2 (clear exit 3)"},
		{"true", "/bin/true (the measurement's own floor)"},
	}
	for _, row := range rows {
		s, ok := r.sum(row.key)
		if !ok {
			continue
		}
		vs := "–"
		if bk, ok := base[row.key]; ok {
			if bs, ok := r.sum(bk); ok {
				vs = fmt.Sprintf("%s slower", ratio(s.Wall, bs.Wall))
				if s.Wall < bs.Wall {
					vs = fmt.Sprintf("%s faster", ratio(bs.Wall, s.Wall))
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %s |\n", row.label, ms(s.Wall), ms(s.CPU), mib(s.RSSKiB),
			s.Provider, s.RCs, vs)
	}
	return b.String()
}

func (r *results) goalTable() string {
	var b strings.Builder
	b.WriteString("| goal | measured | result |\n|---|---|---|\n")
	for _, g := range r.goals() {
		res := "met"
		switch {
		case !g.Known:
			res = "not measured"
		case !g.Met:
			res = "**missed**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", g.What, g.Measured, res)
	}
	return b.String()
}
