package docs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// A block marked "run" is run by the real binary, `ec2boot run --root
// TMP --imds-endpoint URL`, against the local test peers: AWS's metadata
// emulator on loopback serving the block as user-data, the project's
// dyndns2 provider, and an authoritative DNS server for the zone of the
// example's names (the last two labels of its first name). When the block
// is marked "user-data", the page's "local" block is the root's
// /etc/ec2boot/config.toml; otherwise that file holds only
// `dns.check_server` and `peers.nameserver`, pointing at the test DNS
// server, as an image would.
//
// The test changes exactly this in the example's text, and nothing else:
//
//   - every `preset = "..."` and `server = "..."` line becomes
//     `server = "<the dyndns2 test provider's URL>"`;
//   - every `check_server = "..."` line, also when commented out with
//     "#", becomes `check_server = "<the test DNS server>"`;
//   - every `nameserver = "..."` line, also when commented out, becomes
//     `nameserver = "<the test DNS server>"`.
//
// An example with DNS records and no preset/server line fails, and so
// does one with its own local file and no check_server line (for records)
// or nameserver line (for roles): the test would otherwise reach for the
// real services. The root is an image: the shipped templates in
// /usr/share/ec2boot/templates, /etc/passwd and /etc/group with root and
// www-data, a password file at every `password_file` path, and a `systemctl`
// and every program a template's `check` or `command` names, found first
// on PATH, that record their arguments and succeed (`systemctl show`
// answers that the unit is loaded and active), so that the host's units
// are never touched.
//
// After the run (exit 0): every record is in the test DNS server with the
// instance's address of its kind, /etc/hosts has every peer and the
// instance's own names, every template's destination exists and holds the
// addresses of the peers of the roles it names, every unit to reload or
// restart was reloaded or restarted once. A second run exits 0, sends no
// provider request, and reloads nothing.

const (
	secret     = "docs-Pa55word"
	instanceID = "i-0d0c5e0000000001a"
	localIPv4  = "10.1.0.11"
	publicIPv4 = "203.0.113.11"
)

var (
	presetRE      = regexp.MustCompile(`(?m)^([ \t]*)(?:preset|server)[ \t]*=[ \t]*"[^"\n]*"`)
	checkServerRE = regexp.MustCompile(`(?m)^([ \t]*)(?:#[ \t]*)?check_server[ \t]*=[ \t]*"[^"\n]*"`)
	nameserverRE  = regexp.MustCompile(`(?m)^([ \t]*)(?:#[ \t]*)?nameserver[ \t]*=[ \t]*"[^"\n]*"`)
	usernameRE    = regexp.MustCompile(`(?m)^[ \t]*username[ \t]*=[ \t]*"([^"\n]*)"`)
	passwordRE    = regexp.MustCompile(`(?m)^[ \t]*password_file[ \t]*=[ \t]*"([^"\n]*)"`)
	templateRE    = regexp.MustCompile(`\{\{.*?\}\}`)
)

// docConfig is what the test reads back from an example to know what to
// expect.
type docConfig struct {
	DNS struct {
		Records []struct{ Name, Address string }
	}
	Hosts struct {
		Self *bool
	}
	Peers struct {
		Roles map[string][]string
	}
	Templates []struct {
		Source, Destination string
		Owner, Group        string
		Check, Command      []string
		Reload, Restart     []string
	}
}

func TestDocExamplesRun(t *testing.T) {
	n := 0
	for _, e := range examples(t) {
		if !e.has("run") {
			continue
		}
		n++
		t.Run(e.String(), func(t *testing.T) { runExample(t, e) })
	}
	// README.md has no configuration example; these pages must keep
	// theirs runnable.
	for _, page := range []string{"docs/config.md", "docs/dns.md", "docs/peers.md", "docs/fleet.md"} {
		found := false
		for _, e := range examples(t) {
			found = found || (e.file == page && e.has("run"))
		}
		if !found {
			t.Errorf("%s has no example marked <!-- example: run -->", page)
		}
	}
	if n == 0 {
		t.Fatal("no example marked run")
	}
}

// substitute applies the documented substitutions and counts them.
func substitute(text, url, dnsAddr string) (out string, servers, checks, nameservers int) {
	servers = len(presetRE.FindAllString(text, -1))
	checks = len(checkServerRE.FindAllString(text, -1))
	nameservers = len(nameserverRE.FindAllString(text, -1))
	out = presetRE.ReplaceAllString(text, fmt.Sprintf(`${1}server = %q`, url))
	out = checkServerRE.ReplaceAllString(out, fmt.Sprintf(`${1}check_server = %q`, dnsAddr))
	out = nameserverRE.ReplaceAllString(out, fmt.Sprintf(`${1}nameserver = %q`, dnsAddr))
	return out, servers, checks, nameservers
}

func runExample(t *testing.T, e example) {
	var local, user docConfig
	if e.local != nil {
		if _, err := toml.Decode(e.local.body, &local); err != nil {
			t.Fatalf("%s: %v", e.local, err)
		}
	}
	if _, err := toml.Decode(e.body, &user); err != nil {
		t.Fatalf("%s: %v", e, err)
	}
	// What the merge gives, for what the test expects: arrays replace,
	// roles merge by name.
	cfg := local
	if user.DNS.Records != nil {
		cfg.DNS.Records = user.DNS.Records
	}
	if user.Templates != nil {
		cfg.Templates = user.Templates
	}
	if user.Hosts.Self != nil {
		cfg.Hosts.Self = user.Hosts.Self
	}
	if cfg.Peers.Roles == nil {
		cfg.Peers.Roles = map[string][]string{}
	}
	for r, names := range user.Peers.Roles {
		cfg.Peers.Roles[r] = names
	}

	for _, tm := range cfg.Templates {
		if tm.Owner != "" || tm.Group != "" {
			testenv.Root(t, "the example's template sets an owner or group")
		}
	}

	// The zone of the example's names.
	var names []string
	for _, r := range cfg.DNS.Records {
		names = append(names, r.Name)
	}
	for _, peers := range cfg.Peers.Roles {
		names = append(names, peers...)
	}
	if len(names) == 0 {
		t.Fatalf("%s: marked run, but it has no DNS record and no peer: nothing for the test to check", e)
	}
	labels := strings.Split(names[0], ".")
	zone := strings.Join(labels[max(0, len(labels)-2):], ".")
	for _, n := range names {
		if !strings.HasSuffix(n, "."+zone) {
			t.Fatalf("%s: %s is not in %s, the zone of %s: the test serves one zone", e, n, zone, names[0])
		}
	}

	dnsSrv := authdns.New(zone)
	if err := dnsSrv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dnsSrv.Close() })
	users := map[string]string{}
	texts := e.body
	if e.local != nil {
		texts += "\n" + e.local.body
	}
	for _, m := range usernameRE.FindAllStringSubmatch(texts, -1) {
		users[m[1]] = secret
	}
	dyn := &dyndns.Server{Users: users, Backend: dnsSrv}
	if err := dyn.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dyn.Close() })

	userText, servers, checks, nameservers := substitute(e.body, dyn.URL(), dnsSrv.Addr())
	localText := fmt.Sprintf("[dns]\ncheck_server = %q\n\n[peers]\nnameserver = %q\n", dnsSrv.Addr(), dnsSrv.Addr())
	if e.local != nil {
		var s, c, n int
		localText, s, c, n = substitute(e.local.body, dyn.URL(), dnsSrv.Addr())
		servers, checks, nameservers = servers+s, checks+c, nameservers+n
		if len(cfg.DNS.Records) > 0 && checks == 0 {
			t.Fatalf("%s: its DNS records need a check_server line (commented out is fine) for the test to point at the test DNS server", e)
		}
		if len(cfg.Peers.Roles) > 0 && nameservers == 0 {
			t.Fatalf("%s: its peers need a nameserver line (commented out is fine) for the test to point at the test DNS server", e)
		}
	}
	if len(cfg.DNS.Records) > 0 && servers == 0 {
		t.Fatalf("%s: its DNS records need an account with a preset or server line for the test to point at the test provider", e)
	}

	// Peers: every role name that is not one of the instance's own gets an
	// address in the test DNS server.
	own := map[string]string{}
	for _, r := range cfg.DNS.Records {
		own[r.Name] = map[string]string{"local-ipv4": localIPv4, "public-ipv4": publicIPv4}[r.Address]
		if own[r.Name] == "" {
			t.Fatalf("%s: record %s: the test knows local-ipv4 and public-ipv4, not %q", e, r.Name, r.Address)
		}
	}
	peerAddr := map[string]string{}
	i := 0
	for _, peers := range cfg.Peers.Roles {
		for _, p := range peers {
			if _, ok := own[p]; ok || peerAddr[p] != "" {
				continue
			}
			i++
			peerAddr[p] = fmt.Sprintf("10.1.0.%d", 20+i)
			if err := dnsSrv.Update(context.Background(), p, []netip.Addr{netip.MustParseAddr(peerAddr[p])}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The image.
	root := t.TempDir()
	installTemplates(t, root)
	files := map[string]string{
		"etc/hosts":               "127.0.0.1\tlocalhost\n",
		"etc/passwd":              "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n",
		"etc/group":               "root:x:0:\nwww-data:x:33:\n",
		"etc/ec2boot/config.toml": localText,
	}
	for _, m := range passwordRE.FindAllStringSubmatch(texts, -1) {
		files[strings.TrimPrefix(m[1], "/")] = secret + "\n"
	}
	for p, content := range files {
		if err := writeFile(filepath.Join(root, p), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bin := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	fake := func(name, body string) {
		script := fmt.Sprintf("#!/bin/sh\necho \"%s $*\" >> %s\n%s", name, calls, body)
		if err := writeFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake("systemctl", "[ \"$1\" = show ] && printf 'LoadState=loaded\\nActiveState=active\\n'\nexit 0\n")
	for _, tm := range cfg.Templates {
		for _, argv := range [][]string{tm.Check, tm.Command} {
			if len(argv) > 0 {
				fake(filepath.Base(argv[0]), "exit 0\n")
			}
		}
	}

	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: []byte(userText), Values: map[string]string{
		"instance-id": instanceID, "local-ipv4": localIPv4, "public-ipv4": publicIPv4,
	}})
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}

	r := ec2boot(t, env, append([]string{"run"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("%s: `ec2boot run` on the test peers exited %d:\n%s\nuser-data as run:\n%s\nlocal file as run:\n%s", e, r.code, r.output, userText, localText)
	}

	// DNS: each record, by the names the run reports (a name may be a
	// template), carries the instance's address of its kind.
	var status struct {
		DNS []struct{ Name, Addr string } `json:"dns"`
	}
	st := ec2boot(t, nil, "status", "--json", "--root", root)
	if err := json.Unmarshal([]byte(st.output), &status); err != nil {
		t.Fatalf("%s: status --json: %v\n%s", e, err, st.output)
	}
	if len(status.DNS) != len(cfg.DNS.Records) {
		t.Errorf("%s: status lists %d DNS record(s), the example has %d:\n%s", e, len(status.DNS), len(cfg.DNS.Records), st.output)
	}
	// A record matches the reported name it equals or, for a template,
	// the one its text matches with each {{ ... }} standing for a label's
	// worth of characters.
	registered := map[string]string{}
	taken := map[string]bool{}
	for _, rec := range cfg.DNS.Records {
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(templateRE.ReplaceAllString(rec.Name, "\x00")), "\x00", "[^.]+") + "$")
		name := ""
		for _, s := range status.DNS {
			if !taken[s.Name] && re.MatchString(s.Name) {
				name = s.Name
				break
			}
		}
		if name == "" {
			t.Errorf("%s: status lists no record for %s:\n%s", e, rec.Name, st.output)
			continue
		}
		taken[name] = true
		want := map[string]string{"local-ipv4": localIPv4, "public-ipv4": publicIPv4}[rec.Address]
		got, _ := dnsSrv.Lookup(context.Background(), name)
		if len(got) != 1 || got[0].String() != want {
			t.Errorf("%s: DNS %s = %v, want %s", e, name, got, want)
		}
		registered[name] = want
	}

	// /etc/hosts: the peers, and the instance's own names unless
	// hosts.self is false.
	hosts, err := os.ReadFile(filepath.Join(root, "etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for p, a := range peerAddr {
		want[p] = a
	}
	if cfg.Hosts.Self == nil || *cfg.Hosts.Self {
		for n, a := range registered {
			want[n] = a
		}
	}
	for name, addr := range want {
		if !hostsHas(string(hosts), addr, name) {
			t.Errorf("%s: /etc/hosts has no %s %s:\n%s", e, addr, name, hosts)
		}
	}

	// Templates and their actions.
	log, _ := os.ReadFile(calls)
	for _, tm := range cfg.Templates {
		out, err := os.ReadFile(filepath.Join(root, tm.Destination))
		if err != nil || len(out) == 0 {
			t.Errorf("%s: %s was not rendered: %v", e, tm.Destination, err)
			continue
		}
		src := templateText(t, root, tm.Source)
		for role, peers := range cfg.Peers.Roles {
			if !strings.Contains(src, `"`+role+`"`) && !strings.Contains(src, ".Peers."+role) {
				continue
			}
			for _, p := range peers {
				if a := peerAddr[p]; a != "" && !strings.Contains(string(out), a) {
					t.Errorf("%s: %s lacks peer %s (%s) of role %s:\n%s", e, tm.Destination, p, a, role, out)
				}
			}
		}
		for _, argv := range [][]string{tm.Check, tm.Command} {
			if len(argv) > 0 && !strings.Contains(string(log), filepath.Base(argv[0])+" ") {
				t.Errorf("%s: %v was not run; calls:\n%s", e, argv, log)
			}
		}
		for verb, units := range map[string][]string{"reload": tm.Reload, "restart": tm.Restart} {
			for _, u := range units {
				if c := strings.Count(string(log), "systemctl "+verb+" --no-ask-password -- "+u+"\n"); c != 1 {
					t.Errorf("%s: %s %s %d time(s), want 1; calls:\n%s", e, verb, u, c, log)
				}
			}
		}
	}

	// Nothing changed: nothing sent, nothing reloaded.
	requests := dyn.Count()
	again := ec2boot(t, env, append([]string{"run"}, flags...)...)
	if again.code != 0 || dyn.Count() != requests {
		t.Errorf("%s: the second run exited %d and sent %d provider request(s):\n%s", e, again.code, dyn.Count()-requests, again.output)
	}
	if log2, _ := os.ReadFile(calls); strings.Count(string(log2), "systemctl reload")+strings.Count(string(log2), "systemctl restart") !=
		strings.Count(string(log), "systemctl reload")+strings.Count(string(log), "systemctl restart") {
		t.Errorf("%s: the second run reloaded or restarted units:\n%s", e, log2)
	}
}

// hostsHas reports whether a line of the hosts file maps addr to name.
func hostsHas(hosts, addr, name string) bool {
	for _, l := range strings.Split(hosts, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && f[0] == addr {
			for _, n := range f[1:] {
				if n == name {
					return true
				}
			}
		}
	}
	return false
}

// templateText reads a template where the render step looks for it: an
// absolute path in the root, a relative one in /etc/ec2boot and then the
// shipped templates.
func templateText(t *testing.T, root, source string) string {
	t.Helper()
	candidates := []string{source}
	if !filepath.IsAbs(source) {
		candidates = []string{"/etc/ec2boot/" + source, "/usr/share/ec2boot/templates/" + source}
	}
	for _, c := range candidates {
		if b, err := os.ReadFile(filepath.Join(root, c)); err == nil {
			return string(b)
		}
	}
	t.Fatalf("template %s not found in the test image", source)
	return ""
}
