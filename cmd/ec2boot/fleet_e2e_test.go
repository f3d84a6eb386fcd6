package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

// fleetUserData is one user-data for a whole Auto Scaling group: every
// instance gets it, byte for byte; the names come from each one's facts.
func fleetUserData(t *testing.T) []byte {
	toml := `
[[dns.records]]
name = "{{ .Tags.Name }}.internal.example.test"
address = "local-ipv4"
account = "e2e"

[[dns.records]]
name = "web-{{ .ShortID }}.example.test"
address = "public-ipv4"
account = "e2e"
`
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(toml))
	zw.Close()
	return b.Bytes()
}

// fleetInstance is one emulated instance of the group: its own metadata
// emulator (instance-id, addresses, Name tag, launch time) serving the
// group's one user-data, and its own root.
func fleetInstance(t *testing.T, p *provider, n int, nameTag bool) (root string, flags []string) {
	cfg := aemm.Config{IMDSv2: true, UserData: fleetUserData(t), Values: map[string]string{
		"instance-id":        fmt.Sprintf("i-0f1ee70000000%04x", 0xa0+n),
		"local-ipv4":         fmt.Sprintf("10.1.0.%d", 30+n),
		"public-ipv4":        fmt.Sprintf("203.0.113.%d", 30+n),
		"tags-instance-name": fmt.Sprintf("web-%d", n),
		"ami-launch-index":   "0",
	}, Identity: map[string]any{"instanceId": fmt.Sprintf("i-0f1ee70000000%04x", 0xa0+n),
		"pendingTime": fmt.Sprintf("2026-11-27T0%d:00:00Z", n)}}
	if !nameTag {
		cfg.Paths = map[string]string{"tags-instance-name": ""}
	}
	imds := aemm.Start(t, cfg)
	root = image(t, p)
	return root, []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}
}

// Three instances, one user-data: three distinct names registered and
// resolvable, each instance's own; a second timer run sends nothing.
func TestFleetOneUserDataThreeNames(t *testing.T) {
	p := startProvider(t)
	var flags [][]string
	for n := 1; n <= 3; n++ {
		_, f := fleetInstance(t, p, n, true)
		flags = append(flags, f)
	}
	plan := ec2boot(t, append([]string{"plan"}, flags[0]...)...)
	for _, want := range []string{"== names",
		"dns.records[0].name: {{ .Tags.Name }}.internal.example.test -> web-1.internal.example.test",
		"dns.records[1].name: web-{{ .ShortID }}.example.test -> web-000000a1.example.test",
		"hostname=web-1.internal.example.test&myip=10.1.0.31"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s\n%s", want, plan.stdout, plan.stderr)
		}
	}
	for i, f := range flags {
		if r := ec2boot(t, append([]string{"run"}, f...)...); r.code != 0 {
			t.Fatalf("instance %d: run exit %d\n%s", i+1, r.code, r.stderr)
		}
	}
	for n := 1; n <= 3; n++ {
		for name, want := range map[string]string{
			fmt.Sprintf("web-%d.internal.example.test", n):     fmt.Sprintf("10.1.0.%d", 30+n),
			fmt.Sprintf("web-000000%02x.example.test", 0xa0+n): fmt.Sprintf("203.0.113.%d", 30+n),
		} {
			got, err := p.dns.Lookup(context.Background(), name)
			if err != nil || len(got) != 1 || got[0].String() != want {
				t.Errorf("DNS %s = %v (%v), want %s", name, got, err, want)
			}
		}
	}
	if p.dyn.Count() != 6 {
		t.Errorf("%d provider requests for three instances of two names each, want 6", p.dyn.Count())
	}
	before := p.dyn.Count()
	for i, f := range flags {
		if r := ec2boot(t, append([]string{"run"}, f...)...); r.code != 0 {
			t.Errorf("instance %d: second run exit %d\n%s", i+1, r.code, r.stderr)
		}
	}
	if n := p.dyn.Count() - before; n != 0 {
		t.Errorf("second timer run sent %d request(s)", n)
	}
}

// An instance launched without the Name tag: one error naming the key,
// the template and the tag; nothing sent, nothing written under /etc, no
// DNS or peer state (the facts and user-data caches are the run's, not the
// names'); the other steps ran; exit 2. validate says the same with the
// instance's facts, and checks only the syntax without any.
func TestFleetMissingTagSendsAndWritesNothing(t *testing.T) {
	p := startProvider(t)
	root, flags := fleetInstance(t, p, 4, false)
	etc := func() string {
		var keep []string
		for _, l := range strings.Split(snapshot(t, root), "\n") {
			if strings.Contains(l, "/etc/") || strings.Contains(l, "/ddns") || strings.Contains(l, "/peers") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	before := etc()
	r := ec2boot(t, append([]string{"run"}, flags...)...)
	want := `dns.records[0].name: template \"{{ .Tags.Name }}.internal.example.test\": needs the tag \"Name\", which this instance does not have (its tags: Test)`
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("run: exit %d, want 2 and %s\n%s", r.code, want, r.stderr)
	}
	if p.dyn.Count() != 0 {
		t.Errorf("%d provider request(s)", p.dyn.Count())
	}
	if after := etc(); after != before {
		t.Errorf("files written under /etc, or DNS or peer state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if env := readFile(t, filepath.Join(root, "run/ec2boot/facts.env")); !strings.Contains(env, `EC2BOOT_TAG_TEST="test-tag"`) {
		t.Errorf("the facts step did not run:\n%s", env)
	}
	v := ec2boot(t, append([]string{"validate"}, flags...)...)
	if v.code != 1 || !strings.Contains(v.stdout, strings.ReplaceAll(want, `\"`, `"`)) {
		t.Errorf("validate: exit %d\n%s", v.code, v.stdout)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
