package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/bench/latency"
)

// runRecord is one measured ec2boot run with what it sent and wrote.
type runRecord struct {
	Sample     sample
	Written    written
	IMDS       int64
	Provider   int64
	DNS        int64
	RoundTrips int
	// ProxyLate is the latency proxy's mean oversleep per hold.
	ProxyLate time.Duration
	Steps     map[string]float64 `json:",omitempty"` // ms, from status.json
}

func (b *bench) scratch(name string) string {
	return filepath.Join(b.opt.out, "roots", name)
}

// coldRuns: a fresh root and a provider whose DNS still holds the previous
// instance's addresses, then the same run again with nothing changed; at
// each latency. inadyn's forced update of the same two names runs before
// each cold run (A/B interleaved), through the same provider proxy. With a
// reference binary, it does the same job in the same round, before the
// current binary in even rounds and after it in odd ones: what a busy
// moment of the machine costs falls on both.
func (b *bench) coldRuns() error {
	inadynDir, err := b.prepareInadyn()
	if err != nil {
		return err
	}
	// Latencies interleave (0, 1, 5, 0, 1, 5, ...), so that a busy moment
	// on the machine spreads over all of them. Round -1 warms the page
	// cache and is not recorded.
	for i := -1; i < b.opt.runs; i++ {
		for _, ms := range b.opt.latencies {
			b.setLatency(ms)
			key := fmt.Sprintf("%d", ms)
			b.provider.ResetRequests()
			s, err := b.inadyn(inadynDir, true)
			if err != nil {
				return err
			}
			b.res.addIf(i >= 0, "inadyn-forced@"+key, runRecord{Sample: s, Provider: b.provider.Requests()})
			for _, bin := range b.binaries(i + 1) {
				if err := b.coldPair(bin.path, bin.prefix, i >= 0, ms, fmt.Sprintf("%d-%d", ms, i+1),
					i == 0 && bin.prefix == "" && ms == b.opt.latencies[len(b.opt.latencies)-1]); err != nil {
					return err
				}
			}
		}
	}
	b.setLatency(0)
	return nil
}

// basePrefix marks the reference binary's records.
const basePrefix = "base:"

// coldPair is one cold run of bin on a fresh root and the no-change re-run
// after it, recorded (when record) under prefix+"cold@L" and
// prefix+"nochange@L".
func (b *bench) coldPair(bin, prefix string, record bool, ms int, name string, keepTrips bool) error {
	key := fmt.Sprintf("@%d", ms)
	if err := b.restartProvider(staleSelf); err != nil {
		return err
	}
	// Let the new provider settle and the proxies' idle sockets go, so that
	// each cold run starts from the same state.
	time.Sleep(300 * time.Millisecond)
	root := b.scratch("cold-" + name)
	_ = removeRoot(root)
	spec := rootSpec{config: expand(fullConfig, b.dns.Addr, b.provider.Addr, true),
		relocate: true, dirs: true, templates: filepath.Join(b.opt.src, "templates")}
	if err := makeRoot(root, spec); err != nil {
		return err
	}
	cold, err := b.runBinary(bin, root)
	if err != nil {
		return err
	}
	if cold.Sample.RC != 0 {
		return fmt.Errorf("%s: cold run exited %d (see %s)", bin, cold.Sample.RC, filepath.Join(b.opt.out, "ec2boot.log"))
	}
	cold.Steps = stepTimes(root)
	b.res.addIf(record, prefix+"cold"+key, cold)
	if keepTrips {
		b.res.ColdTrips = tripsOf(b.tl.Trips())
	}
	again, err := b.runBinary(bin, root)
	if err != nil {
		return err
	}
	again.Steps = stepTimes(root)
	b.res.addIf(record, prefix+"nochange"+key, again)
	return removeRoot(root)
}

func tripsOf(ts []latency.Trip) []string {
	var out []string
	if len(ts) == 0 {
		return nil
	}
	t0 := ts[0].Start
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%-8s %6.1f-%6.1f ms", t.Peer,
			float64(t.Start.Sub(t0).Microseconds())/1000, float64(t.End.Sub(t0).Microseconds())/1000))
	}
	return out
}

const inadynConf = `period = 600
custom internal {
    username    = bench
    password    = %[2]s
    ddns-server = "%[1]s"
    ddns-path   = "/nic/update?hostname=%%h&myip=%%i"
    checkip-command = "/bin/echo %[3]s"
    ssl         = false
    hostname    = %[4]s
}
custom external {
    username    = bench
    password    = %[2]s
    ddns-server = "%[1]s"
    ddns-path   = "/nic/update?hostname=%%h&myip=%%i"
    checkip-command = "/bin/echo %[5]s"
    ssl         = false
    hostname    = %[6]s
}
`

// ddclient 3.10 binds an address to each host with use=ip in front of it;
// never use=web, which would ask an outside service.
const ddclientConf = `daemon=0
ssl=no
protocol=dyndns2
server=%[1]s
login=bench
password='%[2]s'
use=ip, ip=%[3]s %[4]s
use=ip, ip=%[5]s %[6]s
`

func (b *bench) prepareInadyn() (string, error) {
	dir := b.scratch("inadyn")
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "cache"), 0o700); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(inadynConf, b.provider.Addr, password, localIPv4, internal, publicIPv4, external)
	return dir, os.WriteFile(filepath.Join(dir, "inadyn.conf"), []byte(conf), 0o600)
}

func (b *bench) inadyn(dir string, force bool) (sample, error) {
	argv := []string{"/usr/sbin/inadyn", "--once", "--foreground", "--no-pidfile", "-l", "notice",
		"-f", filepath.Join(dir, "inadyn.conf"), "--cache-dir", filepath.Join(dir, "cache")}
	if force {
		argv = append(argv, "--force")
	}
	return measure(argv, b.env, dir, filepath.Join(b.opt.out, "inadyn.log"))
}

func (b *bench) prepareDdclient() (string, error) {
	dir := b.scratch("ddclient")
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(ddclientConf, b.provider.Addr, password, localIPv4, internal, publicIPv4, external)
	return dir, os.WriteFile(filepath.Join(dir, "ddclient.conf"), []byte(conf), 0o600)
}

func (b *bench) ddclient(dir string, force bool) (sample, error) {
	argv := []string{"/usr/bin/ddclient", "-file", filepath.Join(dir, "ddclient.conf"),
		"-cache", filepath.Join(dir, "ddclient.cache"), "-foreground", "-daemon=0"}
	if force {
		argv = append(argv, "-force")
	}
	return measure(argv, b.env, dir, filepath.Join(b.opt.out, "ddclient.log"))
}

// compare runs the two-name job with each client, forced and as a no-op,
// interleaved (the order rotates every round), at zero added latency.
func (b *bench) compare() error {
	if err := b.restartProvider(nil); err != nil {
		return err
	}
	ind, err := b.prepareInadyn()
	if err != nil {
		return err
	}
	ddc, err := b.prepareDdclient()
	if err != nil {
		return err
	}
	dnsRoot := b.scratch("dns-only")
	_ = removeRoot(dnsRoot)
	if err := makeRoot(dnsRoot, rootSpec{config: expand(dnsOnlyConfig, b.dns.Addr, b.provider.Addr, false),
		templates: filepath.Join(b.opt.src, "templates")}); err != nil {
		return err
	}
	fullRoot := b.scratch("full-nochange")
	_ = removeRoot(fullRoot)
	if err := makeRoot(fullRoot, rootSpec{config: expand(fullConfig, b.dns.Addr, b.provider.Addr, true),
		relocate: true, dirs: true, templates: filepath.Join(b.opt.src, "templates")}); err != nil {
		return err
	}
	defer removeRoot(dnsRoot)
	defer removeRoot(fullRoot)
	// Warm-up: every client once, so that each no-op has its cache.
	if _, err := b.inadyn(ind, true); err != nil {
		return err
	}
	if _, err := b.ddclient(ddc, true); err != nil {
		return err
	}
	if _, err := b.ec2bootRun(dnsRoot, "--force"); err != nil {
		return err
	}
	if _, err := b.ec2bootRun(fullRoot); err != nil {
		return err
	}
	type job struct {
		key string
		fn  func() (runRecord, error)
	}
	wrap := func(f func() (sample, error)) func() (runRecord, error) {
		return func() (runRecord, error) {
			b.provider.ResetRequests()
			s, err := f()
			return runRecord{Sample: s, Provider: b.provider.Requests()}, err
		}
	}
	clients := [][]job{
		{{"ddclient-forced", wrap(func() (sample, error) { return b.ddclient(ddc, true) })},
			{"ddclient-noop", wrap(func() (sample, error) { return b.ddclient(ddc, false) })}},
		{{"inadyn-forced", wrap(func() (sample, error) { return b.inadyn(ind, true) })},
			{"inadyn-noop", wrap(func() (sample, error) { return b.inadyn(ind, false) })}},
		{{"ec2boot-dns-forced", func() (runRecord, error) { return b.ec2bootRun(dnsRoot, "--force") }},
			{"ec2boot-dns-noop", func() (runRecord, error) { return b.ec2bootRun(dnsRoot) }},
			{"ec2boot-full-noop", func() (runRecord, error) { return b.ec2bootRun(fullRoot) }}},
	}
	for i := 0; i < b.opt.compareRuns; i++ {
		for k := range clients {
			for _, j := range clients[(i+k)%len(clients)] {
				r, err := j.fn()
				if err != nil {
					return fmt.Errorf("%s: %w", j.key, err)
				}
				b.res.add(j.key, r)
			}
		}
	}
	return nil
}

// cloudInit runs cloud-init's update_etc_hosts module (its nearest
// equivalent of the hosts step: it rewrites /etc/hosts from its template)
// with a private /etc/hosts, /var/log and configuration bound over the real
// ones in this mount namespace, and a datasource of None: no network.
// Against it: ec2boot with a hosts-only configuration.
func (b *bench) cloudInit() error {
	py := "/usr/bin/python3"
	ci := "/usr/bin/cloud-init"
	if _, err := os.Stat(ci); err != nil {
		b.res.Notes = append(b.res.Notes, "cloud-init is not installed: its comparison was skipped")
		return nil
	}
	w := b.scratch("cloud-init")
	_ = os.RemoveAll(w)
	for _, d := range []string{"lib", "run", "log", "cfgd"} {
		if err := os.MkdirAll(filepath.Join(w, d), 0o755); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(w, "hosts"), debianHosts, 0o644); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", "/etc/cloud/cloud.cfg.d/.", filepath.Join(w, "cfgd")).CombinedOutput(); err != nil {
		return fmt.Errorf("copy cloud.cfg.d: %v: %s", err, out)
	}
	cfg := fmt.Sprintf("manage_etc_hosts: true\nhostname: web-1\nfqdn: %s\ndatasource_list: [ None ]\n"+
		"system_info:\n  paths:\n    cloud_dir: %s\n    run_dir: %s\n", external, filepath.Join(w, "lib"), filepath.Join(w, "run"))
	if err := writeFile(filepath.Join(w, "cfgd", "99-bench.cfg"), cfg, 0o644); err != nil {
		return err
	}
	binds := [][2]string{{filepath.Join(w, "hosts"), "/etc/hosts"}, {filepath.Join(w, "log"), "/var/log"},
		{filepath.Join(w, "cfgd"), "/etc/cloud/cloud.cfg.d"}}
	var mounted []string
	defer func() {
		for i := len(mounted) - 1; i >= 0; i-- {
			_ = unix.Unmount(mounted[i], unix.MNT_DETACH)
		}
	}()
	for _, bd := range binds {
		if err := unix.Mount(bd[0], bd[1], "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s over %s: %w", bd[0], bd[1], err)
		}
		mounted = append(mounted, bd[1])
	}
	hostsRoot := b.scratch("hosts-only")
	_ = removeRoot(hostsRoot)
	if err := makeRoot(hostsRoot, rootSpec{config: "[imds]\ntimeout = \"10s\"\n\n[relocate]\nenabled = false\n",
		templates: filepath.Join(b.opt.src, "templates")}); err != nil {
		return err
	}
	defer removeRoot(hostsRoot)
	runs := b.opt.runs
	if runs > 5 {
		runs = 5
	}
	for i := 0; i < runs; i++ {
		s, err := measure([]string{py, ci, "single", "--name", "update_etc_hosts", "--frequency", "always"},
			b.env, w, filepath.Join(b.opt.out, "cloud-init.log"))
		if err != nil {
			return err
		}
		if s.RC != 0 {
			return fmt.Errorf("cloud-init single exited %d (see %s)", s.RC, filepath.Join(b.opt.out, "cloud-init.log"))
		}
		b.res.add("cloud-init-hosts", runRecord{Sample: s})
		r, err := b.ec2bootRun(hostsRoot)
		if err != nil {
			return err
		}
		b.res.add("ec2boot-hosts", r)
	}
	h, _ := os.ReadFile(filepath.Join(w, "hosts"))
	if !bytes.Contains(h, []byte(external)) {
		b.res.Notes = append(b.res.Notes, "cloud-init ran but did not write its /etc/hosts")
	}
	return nil
}

// lateIMDS starts ec2boot while nothing listens at its metadata endpoint,
// and opens the endpoint (a proxy to the emulator) T later.
func (b *bench) lateIMDS() error {
	root := b.scratch("late")
	for _, t := range []int{250, 1000, 3000} {
		runs := 3
		if b.opt.quick {
			runs = 1
		}
		for i := 0; i < runs; i++ {
			_ = removeRoot(root)
			if err := makeRoot(root, rootSpec{config: expand(dnsOnlyConfig, b.dns.Addr, b.provider.Addr, false),
				templates: filepath.Join(b.opt.src, "templates")}); err != nil {
				return err
			}
			var proxy *latency.Proxy
			var perr error
			up := make(chan time.Time, 1)
			timer := time.AfterFunc(time.Duration(t)*time.Millisecond, func() {
				proxy, perr = latency.TCPOn("imds-late", lateIMDS, b.aemmURL[len("http://"):], &latency.Timeline{})
				up <- time.Now()
			})
			start := time.Now()
			s, err := measure([]string{b.opt.ec2boot, "run", "--root", root, "--imds-endpoint", "http://" + lateIMDS,
				"--log-format", "json"}, b.env, root, filepath.Join(b.opt.out, "ec2boot-late.log"))
			end := start.Add(s.Wall)
			timer.Stop()
			var opened time.Time
			select {
			case opened = <-up:
			case <-time.After(time.Duration(t)*time.Millisecond + 2*time.Second):
			}
			if proxy != nil {
				_ = proxy.Close()
			}
			if err != nil {
				return err
			}
			if perr != nil {
				return perr
			}
			if opened.IsZero() {
				return fmt.Errorf("T=%d ms: ec2boot finished before the metadata service came up (rc %d)", t, s.RC)
			}
			b.res.Late = append(b.res.Late, lateRecord{TMS: t, AfterT: end.Sub(opened), Sample: s})
		}
	}
	return removeRoot(root)
}

// notEC2 runs without an endpoint under a root without DMI files: the run
// must see at once that this is not EC2 and exit 3 without sending
// anything.
func (b *bench) notEC2() error {
	root := b.scratch("not-ec2")
	_ = removeRoot(root)
	if err := makeRoot(root, rootSpec{config: "[relocate]\nenabled = false\n",
		templates: filepath.Join(b.opt.src, "templates")}); err != nil {
		return err
	}
	defer removeRoot(root)
	for i := 0; i < b.opt.runs; i++ {
		for _, bin := range b.binaries(i) {
			s, err := measure([]string{bin.path, "run", "--root", root, "--log-format", "json"},
				b.env, root, filepath.Join(b.opt.out, "ec2boot-notec2.log"))
			if err != nil {
				return err
			}
			b.res.add(bin.prefix+"not-ec2", runRecord{Sample: s})
		}
	}
	return nil
}

// ec2bootBinary is a binary under test and the prefix of its records.
type ec2bootBinary struct{ path, prefix string }

// binaries are the current binary and, when given, the reference one, in
// the order of round i: alternating, so that neither always goes first.
func (b *bench) binaries(i int) []ec2bootBinary {
	bins := []ec2bootBinary{{b.opt.ec2boot, ""}}
	if b.opt.base == "" {
		return bins
	}
	bins = append(bins, ec2bootBinary{b.opt.base, basePrefix})
	if i%2 != 0 {
		bins[0], bins[1] = bins[1], bins[0]
	}
	return bins
}

// startup measures `ec2boot version` and the binary's size, with a
// breakdown by package from an unstripped build of the same source.
func (b *bench) startup() error {
	for i := 0; i < 3*b.opt.runs; i++ {
		s, err := measure([]string{"/bin/true"}, b.env, b.opt.out, filepath.Join(b.opt.out, "version.log"))
		if err != nil {
			return err
		}
		b.res.add("true", runRecord{Sample: s})
		for _, bin := range b.binaries(i) {
			s, err = measure([]string{bin.path, "version"}, b.env, b.opt.out, filepath.Join(b.opt.out, "version.log"))
			if err != nil {
				return err
			}
			b.res.add(bin.prefix+"version", runRecord{Sample: s})
		}
	}
	if err := b.initTraces(3 * b.opt.runs); err != nil {
		return err
	}
	st, err := os.Stat(b.opt.ec2boot)
	if err != nil {
		return err
	}
	b.res.BinaryBytes = st.Size()
	if b.opt.base != "" {
		st, err := os.Stat(b.opt.base)
		if err != nil {
			return err
		}
		b.res.BaseBinaryBytes = st.Size()
		if b.opt.baseSrc != "" {
			if sizes, err := unstrippedSizes(b.opt.baseSrc, b.opt.baseTags, filepath.Join(b.opt.out, "ec2boot-base.unstripped")); err != nil {
				b.res.Notes = append(b.res.Notes, fmt.Sprintf("the reference's size breakdown skipped: %v", err))
			} else {
				b.res.BaseSizeByPackage = sizes
			}
		}
	}
	sizes, err := unstrippedSizes(b.opt.src, b.opt.tags, filepath.Join(b.opt.out, "ec2boot.unstripped"))
	if err != nil {
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("size breakdown skipped: %v", err))
		return nil
	}
	b.res.SizeByPackage = sizes
	refs, err := b.buildSizeRefs()
	if err != nil {
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("reference sizes skipped: %v", err))
		return nil
	}
	b.res.SizeRefs = refs
	return nil
}

// unstrippedSizes builds ./cmd/ec2boot of the tree src with the given tags
// and without stripping, and returns its size by package group.
func unstrippedSizes(src, tags, out string) ([]pkgSize, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-tags", tags, "-o", out, "./cmd/ec2boot")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0")
	if o, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, tail(string(o), 300))
	}
	return sizeByPackage(out)
}

// sizeByPackage sums the sizes of the symbols that occupy the file (text,
// read-only data, data; not bss, which is zeroed at startup) per package
// group, and adds the sections that have no symbols of their own (the
// pc-line tables, type and string data) as one row.
func sizeByPackage(path string) ([]pkgSize, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	sums := map[string]int64{}
	var inSyms int64
	for _, sym := range syms {
		if int(sym.Section) <= 0 || int(sym.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[sym.Section]
		if sec.Type == elf.SHT_NOBITS || sec.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		sums[pkgGroup(sym.Name)] += int64(sym.Size)
		inSyms += int64(sym.Size)
	}
	var alloc int64
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOBITS && sec.Flags&elf.SHF_ALLOC != 0 {
			alloc += int64(sec.Size)
		}
	}
	if rest := alloc - inSyms; rest > 0 {
		sums["tables without symbols (pc-line tables, type and string data)"] += rest
	}
	var out []pkgSize
	for k, v := range sums {
		out = append(out, pkgSize{Package: k, Bytes: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	return out, nil
}

// pkgGroup maps a symbol to its package, with the standard library folded
// to its top directory except for the families the size analysis is about.
func pkgGroup(sym string) string {
	switch {
	case strings.HasPrefix(sym, "type:"):
		return "type descriptors (type:*)"
	case strings.HasPrefix(sym, "go:"):
		return "Go metadata (go:*: func info, strings)"
	}
	// The package path ends at the first dot after the last slash.
	pkg := sym
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	groups := []struct{ prefix, name string }{
		{"github.com/ec2boot/ec2boot", "ec2boot's own packages"},
		{"crypto", "crypto/* (TLS, x509, ciphers)"},
		{"vendor/golang.org/x/crypto", "crypto/* (TLS, x509, ciphers)"},
		{"net/http", "net/http"},
		{"vendor/golang.org/x/net", "net/http"},
		{"net", "net, net/netip"},
		{"text/template", "text/template, reflect"},
		{"reflect", "text/template, reflect"},
		{"internal/reflectlite", "text/template, reflect"},
		{"runtime", "runtime"},
		{"internal/runtime", "runtime"},
	}
	for _, g := range groups {
		if pkg == g.prefix || strings.HasPrefix(pkg, g.prefix+"/") {
			return g.name
		}
	}
	if first, _, _ := strings.Cut(pkg, "/"); strings.Contains(first, ".") && strings.Contains(pkg, "/") {
		return modulePath(pkg)
	}
	if i := strings.IndexByte(pkg, '/'); i >= 0 {
		return pkg[:i] + "/*"
	}
	return pkg
}

// sizeRefs are reference programs built with the release flags, to show
// what the big dependencies cost on their own.
var sizeRefs = []struct{ name, src string }{
	{"hello world (os only)", `package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
`},
	{"an HTTPS GET (net/http + crypto/tls)", `package main

import (
	"net/http"
	"os"
)

func main() {
	resp, err := http.Get("https://example.invalid/")
	if err == nil {
		resp.Body.Close()
	}
	os.Stdout.WriteString("done\n")
}
`},
	{"the HTTPS GET + executing a text/template", `package main

import (
	"net/http"
	"os"
	"text/template"
)

func main() {
	resp, err := http.Get("https://example.invalid/")
	if err == nil {
		resp.Body.Close()
	}
	t := template.Must(template.New("x").Parse(os.Args[0]))
	_ = t.Execute(os.Stdout, resp)
}
`},
}

// buildSizeRefs builds each reference program as `make build` builds
// ec2boot and returns their sizes.
func (b *bench) buildSizeRefs() ([]pkgSize, error) {
	dir := filepath.Join(b.opt.out, "sizeref")
	_ = os.RemoveAll(dir)
	if err := writeFile(filepath.Join(dir, "go.mod"), "module sizeref\n\ngo 1.26\n", 0o644); err != nil {
		return nil, err
	}
	var out []pkgSize
	for i, ref := range sizeRefs {
		sub := filepath.Join(dir, fmt.Sprint(i))
		if err := writeFile(filepath.Join(sub, "main.go"), ref.src, 0o644); err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, fmt.Sprintf("ref%d", i))
		cmd := exec.Command("go", "build", "-trimpath", "-tags", b.opt.tags, "-ldflags", "-s -w", "-o", bin, ".")
		cmd.Dir, cmd.Env = sub, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if o, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v: %s", ref.name, err, tail(string(o), 300))
		}
		st, err := os.Stat(bin)
		if err != nil {
			return nil, err
		}
		out = append(out, pkgSize{Package: ref.name, Bytes: st.Size()})
	}
	return out, nil
}

func (b *bench) describeMachine() error {
	m := machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if c, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(c), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if mem, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(mem), "\n", 2)[0], "MemTotal:")), "%d", &kb)
		m.Memory = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
	}
	if osr, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(osr), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	version := func(argv ...string) string {
		out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	dpkg := func(pkg string) string { return version("dpkg-query", "-W", "-f=${Version}", pkg) }
	m.Versions = map[string]string{
		"ec2boot":           strings.TrimPrefix(version(b.opt.ec2boot, "version"), "ec2boot "),
		"go":                version("go", "version"),
		"ddclient":          dpkg("ddclient"),
		"inadyn":            dpkg("inadyn"),
		"cloud-init":        dpkg("cloud-init"),
		"ec2-metadata-mock": version(b.opt.aemm, "--version"),
	}
	b.res.Machine = m
	return nil
}
