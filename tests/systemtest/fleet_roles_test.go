package systemtest

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// ec2APIPort is where the fleet's EC2 API listens on the hub address; the
// test image's drop-ins for ec2boot.service and ec2boot-refresh.service
// (testdata/image/etc/systemd/system/*.d/test-ec2-api.conf) point
// AWS_ENDPOINT_URL_EC2 there.
const ec2APIPort = "8080"

// fleetRolesUserData is the tagged fleet's one user-data: the fleet role
// is every running instance tagged Role=fleet, named by its Name tag, and
// peer-app.service reloads when the rendered list changes.
func fleetRolesUserData() []byte {
	return []byte(fmt.Sprintf(`[peers.discover.fleet]
source = "ec2"
tag = { Role = "fleet" }
name = "{{ .Tags.Name }}.internal.%s"

[[templates]]
source = "/usr/share/ec2boot/templates/peers.env.tmpl"
destination = "/etc/default/fleet-peers"
reload = ["peer-app.service"]
`, zone))
}

// fleetKey is the instance profile's credentials: every instance's
// metadata hands them out and the EC2 API accepts only them.
var fleetKey = awsapi.Credentials{AccessKeyID: "AKIAFLEETROLE0000001", SecretAccessKey: "fleet/role/secret", Token: "fleet-role-session-token"}

// fleetMember is member n of the tagged fleet as the EC2 API lists it.
func fleetMember(n int) awsapi.Instance {
	return awsapi.Instance{
		ID:        fmt.Sprintf("i-0f1ee7a0000000%03x", n),
		PrivateIP: netip.AddrFrom4([4]byte{10, 200, 0, byte(30 + n)}),
		PublicIP:  netip.AddrFrom4([4]byte{203, 0, 113, byte(30 + n)}),
		Tags:      []awsapi.Tag{{Key: "Name", Value: fmt.Sprintf("inst-%d", n)}, {Key: "Role", Value: "fleet"}},
		Role:      "fleet-member", Credentials: fleetKey, Expiration: time.Now().Add(2 * time.Hour),
		AvailabilityZone: fleetRegion + "b",
	}
}

// tagFleet is the running fleet: the EC2 API on the hub, and per member
// its namespace, metadata emulator and container.
type tagFleet struct {
	hub, img string
	api      *awsapi.Server
	live     map[int]*tagMember
	gone     []int // terminated, still listed by the API
}

type tagMember struct {
	n  int
	in *instance
	c  *container
}

// TestFleetRolesByTag is the fleet of TestFleet with its peers found by
// EC2 tags instead of listed: one user-data for all, the fleet role being
// every running instance tagged Role=fleet, found through DescribeInstances
// (the strict peer on the hub, checking SigV4 against the role credentials
// each instance's own metadata emulator hands out). Three instances boot
// and find each other; a redeploy (one terminated, a replacement launched),
// a scale-out from 3 to 5 and a termination each converge on every
// surviving peer in the first timer run that starts after the API changed,
// and on a new instance in its boot run; a terminated member leaves every
// /etc/hosts and rendered file; peer-app.service is reloaded once per
// change and never by a run that changed nothing.
func TestFleetRolesByTag(t *testing.T) {
	needRoot(t, "creates network namespaces and boots containers")
	if _, err := aemm.Find(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	// The base rootfs may need the network to be built: not inside the hub.
	baseRootfs(t, plain)
	if !inHub(t) {
		return
	}
	f := &tagFleet{hub: os.Getenv(hubEnv), img: image(t), live: map[int]*tagMember{}}
	// A bridge takes the lowest address of its ports unless given one: a
	// port added later (a new instance) would then change the hub's MAC
	// under the running instances' ARP caches.
	ipCmd(t, "link", "add", "br0", "address", "02:00:0a:c8:00:35", "type", "bridge")
	ipCmd(t, "link", "set", "br0", "up")
	ipCmd(t, "addr", "add", hubAddr+"/24", "dev", "br0")
	api, err := awsapi.Listen(hubAddr+":"+ec2APIPort, awsapi.Options{EC2Region: fleetRegion})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Close() })
	api.AddCredentials(fleetKey)
	f.api = api

	start := time.Now()
	f.step(t, "first boot", nil, []int{1, 2, 3})
	t.Logf("three instances booted and converged in %s", time.Since(start).Round(100*time.Millisecond))

	f.step(t, "redeploy of inst-2 as inst-4", []int{2}, []int{4})
	f.step(t, "scale-out from 3 to 5", nil, []int{5, 6})
	f.step(t, "inst-5 terminated", []int{5}, nil)

	// Settled: one more timer run everywhere asks the API and changes
	// nothing.
	calls := api.Count(awsapi.EC2, "DescribeInstances")
	f.settled(t, "after the last change")
	if n := api.Count(awsapi.EC2, "DescribeInstances") - calls; n < len(f.live) {
		t.Errorf("%d DescribeInstances in one timer run of %d instances, want one each at least", n, len(f.live))
	}
	t.Logf("%d DescribeInstances in all", api.Count(awsapi.EC2, "DescribeInstances"))
}

// prepare makes instance n ready to boot: its namespace on the bridge,
// its metadata emulator serving what the inventory says of it.
func (f *tagFleet) prepare(t *testing.T, n int) {
	t.Helper()
	inv := fleetMember(n)
	in := &instance{netns: nsName(fmt.Sprintf("t%d", n)), localIPv4: inv.PrivateIP.String(), userData: fleetRolesUserData(), inventory: &inv}
	newNetns(t, in.netns)
	in.wire(t, f.hub, fmt.Sprintf("w%d", n))
	in.startIMDS(t)
	f.live[n] = &tagMember{n: n, in: in}
}

// publish gives the API the current inventory: the live members running,
// the terminated ones listed as such (the API keeps them for an hour).
func (f *tagFleet) publish(t *testing.T) {
	t.Helper()
	var inv []awsapi.Instance
	for _, n := range f.members() {
		inv = append(inv, fleetMember(n))
	}
	for _, n := range f.gone {
		in := fleetMember(n)
		in.State = "terminated"
		inv = append(inv, in)
	}
	if err := f.api.SetInstances(inv); err != nil {
		t.Fatal(err)
	}
}

// members are the live members' numbers, in order.
func (f *tagFleet) members() []int {
	var ns []int
	for n := range f.live {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// step terminates the instances gone (their containers halt, the API
// lists them as terminated) and launches the instances added. Every
// instance that stays must have the new fleet after the first timer run
// that starts once the API changed, each new one after its boot run; the
// stayers' peer-app.service is reloaded exactly once, the new ones' never.
func (f *tagFleet) step(t *testing.T, name string, gone, added []int) {
	t.Helper()
	stayers := f.members()
	before := map[int]int{}
	for _, n := range stayers {
		before[n] = reloads(t, f.live[n].c)
	}
	for _, n := range gone {
		f.live[n].c.stop(t)
		f.live[n].in.stopIMDS()
		delete(f.live, n)
		f.gone = append(f.gone, n)
		stayers = slices.DeleteFunc(stayers, func(s int) bool { return s == n })
	}
	// The new instances' metadata is ready before the API lists them, as
	// an instance exists before anyone can find it.
	for _, n := range added {
		f.prepare(t, n)
	}
	f.publish(t)
	changed, at := time.Now(), monotonic(t)
	want := f.members()
	if len(stayers) > 0 {
		f.afterRun(t, name, stayers, at, func(m *tagMember) string { return f.wrong(t, m, want) })
		t.Logf("%s: every instance that stayed had the new fleet %s after the API changed", name, time.Since(changed).Round(100*time.Millisecond))
	}
	for _, n := range added {
		f.live[n].c = boot(t, f.img, fmt.Sprintf("tag-%d", n), f.live[n].in.netns)
	}
	for _, n := range added {
		m := f.live[n]
		if state := m.c.waitRunning(t); state != "running" {
			t.Fatalf("%s: inst-%d: system state %q, want running\n%s", name, n, state, f.journal(m))
		}
		if why := f.wrong(t, m, want); why != "" {
			t.Errorf("%s: inst-%d after its boot run: %s\n%s", name, n, why, f.journal(m))
		}
	}
	f.settled(t, name)
	for _, n := range stayers {
		if got := reloads(t, f.live[n].c) - before[n]; got != 1 {
			t.Errorf("%s: inst-%d: peer-app.service reloaded %d times, want once", name, n, got)
		}
	}
	for _, n := range added {
		if got := reloads(t, f.live[n].c); got != 0 {
			t.Errorf("%s: inst-%d: peer-app.service reloaded %d times since boot, want never (nothing changed after the boot run)", name, n, got)
		}
	}
}

// settled waits for one more timer run on every live instance and checks
// that it wrote no file and reloaded nothing.
func (f *tagFleet) settled(t *testing.T, step string) {
	t.Helper()
	stamps := map[int]string{}
	counts := map[int]int{}
	for n, m := range f.live {
		stamps[n] = m.c.must(t, "stat", "-c", "%n %y", "/etc/hosts", "/etc/default/fleet-peers")
		counts[n] = reloads(t, m.c)
	}
	f.afterRun(t, step+", a run with nothing changed", f.members(), monotonic(t), func(m *tagMember) string {
		if now := m.c.must(t, "stat", "-c", "%n %y", "/etc/hosts", "/etc/default/fleet-peers"); now != stamps[m.n] {
			return fmt.Sprintf("files rewritten:\nbefore %s\nafter  %s", stamps[m.n], now)
		}
		if got := reloads(t, m.c); got != counts[m.n] {
			return fmt.Sprintf("peer-app.service reloaded %d times", got-counts[m.n])
		}
		return ""
	})
}

// afterRun waits, for each instance in ns, for the first ec2boot-refresh
// run that started after since (CLOCK_MONOTONIC, µs: the containers share
// the kernel's clock) to finish, and checks it succeeded and that check
// then finds nothing wrong. A check made while a later run had already
// started would not judge the first one; that run is then waited for and
// judged instead, which can only be more lenient by one run's head start.
func (f *tagFleet) afterRun(t *testing.T, step string, ns []int, since int64, check func(*tagMember) string) {
	t.Helper()
	pending := slices.Clone(ns)
	after := map[int]int64{}
	for _, n := range ns {
		after[n] = since
	}
	deadline := time.Now().Add(45 * time.Second)
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no finished timer run on inst-%v within 45s\n%s", step, pending, f.journal(f.live[pending[0]]))
		}
		next := pending[:0]
		for _, n := range pending {
			m := f.live[n]
			run := lastRefresh(t, m.c)
			if run.start <= after[n] || run.active == "activating" || run.exit < run.start {
				next = append(next, n)
				continue
			}
			if run.result != "success" {
				t.Fatalf("%s: inst-%d: ec2boot-refresh.service Result=%s\n%s", step, n, run.result, f.journal(m))
			}
			why := check(m)
			if again := lastRefresh(t, m.c); again.start != run.start {
				// A later run started during the check: judge again.
				after[n] = run.start
				next = append(next, n)
				continue
			}
			if why != "" {
				t.Fatalf("%s: inst-%d after one timer run: %s\n%s", step, n, why, f.journal(m))
			}
		}
		pending = next
		time.Sleep(100 * time.Millisecond)
	}
}

// refreshRun is what systemd says of the last ec2boot-refresh run.
type refreshRun struct {
	start, exit int64
	active      string
	result      string
}

func lastRefresh(t *testing.T, c *container) refreshRun {
	t.Helper()
	p := c.show(t, "ec2boot-refresh.service", "ExecMainStartTimestampMonotonic", "ExecMainExitTimestampMonotonic", "ActiveState", "Result")
	start, _ := strconv.ParseInt(p["ExecMainStartTimestampMonotonic"], 10, 64)
	exit, _ := strconv.ParseInt(p["ExecMainExitTimestampMonotonic"], 10, 64)
	return refreshRun{start: start, exit: exit, active: p["ActiveState"], result: p["Result"]}
}

// monotonic is CLOCK_MONOTONIC in µs, systemd's *TimestampMonotonic.
func monotonic(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}

// wrong returns what in m's /etc/hosts or rendered file disagrees with
// the fleet want (exactly those members, nobody else), or "".
func (f *tagFleet) wrong(t *testing.T, m *tagMember, want []int) string {
	t.Helper()
	var wantHosts, wantAddrs, wantNames []string
	for _, n := range want {
		in := fleetMember(n)
		name := fmt.Sprintf("inst-%d.internal.%s", n, zone)
		wantHosts = append(wantHosts, in.PrivateIP.String()+" "+name)
		wantAddrs = append(wantAddrs, in.PrivateIP.String())
		wantNames = append(wantNames, name)
	}
	slices.Sort(wantHosts)
	slices.Sort(wantAddrs)
	slices.Sort(wantNames)
	hosts := m.c.must(t, "cat", "/etc/hosts")
	if d := cmp.Diff(wantHosts, fleetHosts(hosts)); d != "" {
		return fmt.Sprintf("/etc/hosts (-want +got):\n%s\n%s", d, hosts)
	}
	env := m.c.must(t, "cat", "/etc/default/fleet-peers")
	if d := cmp.Diff(wantAddrs, envList(env, "PEERS_FLEET")); d != "" {
		return fmt.Sprintf("fleet-peers PEERS_FLEET (-want +got):\n%s\n%s", d, env)
	}
	if d := cmp.Diff(wantNames, envList(env, "PEERS_FLEET_NAMES")); d != "" {
		return fmt.Sprintf("fleet-peers PEERS_FLEET_NAMES (-want +got):\n%s\n%s", d, env)
	}
	return ""
}

// fleetHosts is every "address name" pair of a hosts file whose name is a
// fleet member's, sorted.
func fleetHosts(hosts string) []string {
	var out []string
	for _, line := range strings.Split(hosts, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		for _, name := range fields[1:] {
			if strings.HasSuffix(name, ".internal."+zone) {
				out = append(out, fields[0]+" "+name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// envList is a rendered VAR='a b c' line's words, sorted.
func envList(env, name string) []string {
	for _, line := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			words := strings.Fields(strings.Trim(v, "'"))
			slices.Sort(words)
			return words
		}
	}
	return nil
}

// reloads counts peer-app.service's reloads in this boot.
func reloads(t *testing.T, c *container) int {
	t.Helper()
	out, err := c.exec(time.Minute, "sh", "-c", "test ! -e /run/peer-app.reloads || cat /run/peer-app.reloads")
	if err != nil {
		t.Fatalf("%s: reading /run/peer-app.reloads: %v\n%s", c.name, err, out)
	}
	return strings.Count(out, "reloaded")
}

// journal is m's ec2boot runs, for a failure message.
func (f *tagFleet) journal(m *tagMember) string {
	log, _ := m.c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", "ec2boot.service", "-u", "ec2boot-refresh.service", "-u", "peer-app.service", "-n", "40")
	return fmt.Sprintf("== inst-%d journal\n%s\n== metadata emulator\n%s", m.n, log, m.in.imds.Log())
}
