package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// discoverUserData is the group's one user-data: the web role is every
// running instance tagged Role=web, named by its Name tag; an upstream
// file lists them and its reload is counted.
func discoverUserData(reloads string) []byte {
	return []byte(fmt.Sprintf(`
[peers.discover.web]
source = "ec2"
tag = { Role = "web" }
name = "{{ .Tags.Name }}.internal.example.test"

[[templates]]
source = "upstream.tmpl"
destination = "/etc/upstream.conf"
command = ["/bin/sh", "-c", "echo reload >> %s"]
`, reloads))
}

var discoverKey = awsapi.Credentials{AccessKeyID: "AKIAE2EDISCOVER00001", SecretAccessKey: "e2e/discover/secret", Token: "e2e-discover-token"}

func webInstance(n int) awsapi.Instance {
	return awsapi.Instance{
		ID: fmt.Sprintf("i-0d15c0000000%05x", n), PrivateIP: netip.AddrFrom4([4]byte{10, 2, 0, byte(10 + n)}),
		Tags: []awsapi.Tag{{Key: "Name", Value: fmt.Sprintf("web-%d", n)}, {Key: "Role", Value: "web"}},
		Role: "web-role", Credentials: discoverKey, Expiration: time.Now().Add(2 * time.Hour),
	}
}

type discoverFleet struct {
	api     *awsapi.Server
	env     []string
	reloads string
	inv     []awsapi.Instance
}

// instance boots simulated instance n of the inventory: its own metadata
// emulator (from the inventory, so what it reads about itself and what
// the API says agree) and its own root.
func (f *discoverFleet) instance(t *testing.T, n int) (root string, flags []string) {
	t.Helper()
	c, err := webInstance(n).AEMMConfig("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	c.UserData = discoverUserData(f.reloads + fmt.Sprint(n))
	imds := aemm.Start(t, c)
	root = t.TempDir()
	write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n")
	write(t, root, "/etc/ec2boot/config.toml", "[imds]\ntimeout = \"3s\"\n")
	write(t, root, "/etc/ec2boot/upstream.tmpl", "{{ range .Peers.web }}server {{ .Name }} {{ .Addr }} {{ .InstanceID }}\n{{ end }}")
	return root, []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}
}

func (f *discoverFleet) set(t *testing.T, inv []awsapi.Instance) {
	t.Helper()
	f.inv = inv
	if err := f.api.SetInstances(inv); err != nil {
		t.Fatal(err)
	}
}

func startDiscoverFleet(t *testing.T) *discoverFleet {
	api := awsapi.Start(t, awsapi.Options{})
	api.AddCredentials(discoverKey)
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials")}
	for k, v := range api.Env() {
		env = append(env, k+"="+v)
	}
	return &discoverFleet{api: api, env: env, reloads: filepath.Join(dir, "reloads-")}
}

// upstream is what instance root's template and hosts block say of the
// web role.
func upstream(t *testing.T, root string) (tmpl, hosts []string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(root, "etc/upstream.conf"))), "\n") {
		tmpl = append(tmpl, l)
	}
	for _, l := range strings.Split(readFile(t, filepath.Join(root, "etc/hosts")), "\n") {
		// The instance's own line also carries its local-hostname.
		f := strings.Fields(l)
		if len(f) > 1 && strings.HasSuffix(f[len(f)-1], ".internal.example.test") {
			hosts = append(hosts, f[0]+"\t"+f[len(f)-1])
		}
	}
	slices.Sort(hosts) // the instance's own line comes first
	return tmpl, hosts
}

func wantRole(ns ...int) (tmpl, hosts []string) {
	for _, n := range ns {
		in := webInstance(n)
		tmpl = append(tmpl, fmt.Sprintf("server web-%d.internal.example.test %s %s", n, in.PrivateIP, in.ID))
		hosts = append(hosts, fmt.Sprintf("%s\tweb-%d.internal.example.test", in.PrivateIP, n))
	}
	return tmpl, hosts
}

func reloadCount(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "reload")
}

// Three instances from one inventory and one user-data find the web role
// by its tag; a replacement, a scale-out from 3 to 5 and a termination
// each converge in one run, with one reload; a run with nothing changed
// writes nothing; a throttled API keeps the role and exits 4, and status
// says why.
func TestDiscoverByTagEndToEnd(t *testing.T) {
	f := startDiscoverFleet(t)
	f.set(t, []awsapi.Instance{webInstance(1), webInstance(2), webInstance(3)})
	var roots []string
	var flags [][]string
	for n := 1; n <= 3; n++ {
		r, fl := f.instance(t, n)
		roots, flags = append(roots, r), append(flags, fl)
	}
	run := func(i int, wantCode int) result {
		t.Helper()
		r := ec2bootEnv(t, f.env, append([]string{"run"}, flags[i]...)...)
		if r.code != wantCode {
			t.Fatalf("instance %d: run exit %d, want %d\n%s", i+1, r.code, wantCode, r.stderr)
		}
		if strings.Contains(r.stderr, "SDK ") {
			t.Errorf("the AWS SDK logged outside the run's log:\n%s", r.stderr)
		}
		return r
	}
	check := func(step string, i int, members ...int) {
		t.Helper()
		gotT, gotH := upstream(t, roots[i])
		wantT, wantH := wantRole(members...)
		if !slices.Equal(gotT, wantT) || !slices.Equal(gotH, wantH) {
			t.Errorf("%s, instance %d:\ntemplate %q\nwant     %q\nhosts %q\nwant  %q", step, i+1, gotT, wantT, gotH, wantH)
		}
	}
	for i := range flags {
		run(i, 0)
		check("first boot", i, 1, 2, 3)
		if n := reloadCount(t, f.reloads+fmt.Sprint(i+1)); n != 1 {
			t.Errorf("instance %d: %d reloads at first boot, want 1", i+1, n)
		}
	}
	if n := f.api.Count(awsapi.EC2, "DescribeInstances"); n != 3 {
		t.Errorf("%d DescribeInstances for three first runs, want 3", n)
	}

	before := snapshot(t, roots[0])
	run(0, 0)
	if after := snapshot(t, roots[0]); after != before {
		t.Errorf("a run with nothing changed wrote files:\n%s\n%s", before, after)
	}

	reloads := func() int { return reloadCount(t, f.reloads+"1") }
	steps := []struct {
		name    string
		inv     []int
		gone    int // terminated, still listed
		members []int
	}{
		{"replacement of web-2 by web-4", []int{1, 3, 4}, 2, []int{1, 3, 4}},
		{"scale-out from 3 to 5", []int{1, 3, 4, 5, 6}, 2, []int{1, 3, 4, 5, 6}},
		{"web-5 terminated", []int{1, 3, 4, 6}, 5, []int{1, 3, 4, 6}},
	}
	for _, st := range steps {
		var inv []awsapi.Instance
		for _, n := range st.inv {
			inv = append(inv, webInstance(n))
		}
		gone := webInstance(st.gone)
		gone.State = "terminated" // listed for an hour after termination
		f.set(t, append(inv, gone))
		r0 := reloads()
		run(0, 0)
		check(st.name, 0, st.members...)
		if n := reloads() - r0; n != 1 {
			t.Errorf("%s: %d reloads, want 1", st.name, n)
		}
	}

	// The API throttles every request: the role stays, the run is
	// degraded (exit 4), and status says why.
	f.api.Inject(awsapi.Fault{Service: awsapi.EC2, Kind: awsapi.Throttle})
	r := run(0, 4)
	check("throttled", 0, 1, 3, 4, 6)
	if !strings.Contains(r.stderr, "throttled (RequestLimitExceeded)") {
		t.Errorf("the run does not say it was throttled:\n%s", r.stderr)
	}
	st := ec2bootEnv(t, f.env, "status", "--root", roots[0])
	if !strings.Contains(st.stdout, "role web (source ec2) is stale: kept at its 4 last known members") {
		t.Errorf("status does not say why:\n%s\n%s", st.stdout, st.stderr)
	}
}
