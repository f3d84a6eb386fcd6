package systemtest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// The fleet's shared services live on the hub: the test's own network
// namespace, with a bridge the instances plug into.
const (
	hubAddr   = "10.200.0.53"
	zone      = "example.test"
	dynUser   = "fleet"
	dynSecret = "fleet-secret"
)

// fleetUserData is the fleet's one configuration, the same bytes for
// every instance as an Auto Scaling group's launch template gives them:
// register an internal name (private address) and an external one (public
// address), both made from the instance's Name tag, list every instance of
// the fleet as a peer, render the peers into an env file.
func fleetUserData() []byte {
	return []byte(fmt.Sprintf(`[dns]
check_server = "%[1]s:53"

[dns.accounts.hub]
server = "http://%[1]s:8245"
username = %[2]q
password = %[3]q

[[dns.records]]
name = "{{ .Tags.Name }}.internal.%[4]s"
address = "local-ipv4"
account = "hub"

[[dns.records]]
name = "{{ .Tags.Name }}.%[4]s"
address = "public-ipv4"
account = "hub"

[peers]
nameserver = "%[1]s"

[peers.roles]
fleet = ["inst-1.internal.%[4]s", "inst-2.internal.%[4]s", "inst-3.internal.%[4]s"]

[[templates]]
source = "/usr/share/ec2boot/templates/peers.env.tmpl"
destination = "/etc/default/fleet-peers"
`, hubAddr, dynUser, dynSecret, zone))
}

// TestFleet is the whole fleet, end to end: three instances, each in its
// own network namespace with its own metadata emulator (its own
// instance-id, addresses and Name tag, one user-data for all), each running
// ec2boot under systemd, sharing a dyndns2 provider that feeds BIND. They
// register their names and find each other; then one is redeployed with a
// new instance-id and new addresses, and after the next timer run every
// instance has the new address, DNS is right, nothing else was rewritten
// and no stale entry remains.
func TestFleet(t *testing.T) {
	cacheDir(t)
	needRoot(t, "creates network namespaces and boots containers")
	if _, err := aemm.Find(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	if !inHub(t) {
		return
	}
	hub := os.Getenv(hubEnv)
	img := image(t)

	ipCmd(t, "link", "add", "br0", "type", "bridge")
	ipCmd(t, "link", "set", "br0", "up")
	ipCmd(t, "addr", "add", hubAddr+"/24", "dev", "br0")
	dnsSrv := startHubNamed(t)
	dyn := &dyndns.Server{Users: map[string]string{dynUser: dynSecret}, Backend: dnsSrv}
	if err := dyn.Start(hubAddr + ":8245"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dyn.Close() })

	fleet := make([]*instance, 3)
	boxes := make([]*container, 3)
	for i := range fleet {
		n := i + 1
		in := &instance{netns: nsName(fmt.Sprintf("f%d", n)), localIPv4: fmt.Sprintf("10.200.0.%d", 10+n),
			publicIPv4: fmt.Sprintf("203.0.113.%d", 10+n), instanceID: fmt.Sprintf("i-0f1ee7000000000%02d", n), userData: fleetUserData(), nameTag: fmt.Sprintf("inst-%d", n)}
		newNetns(t, in.netns)
		in.wire(t, hub, fmt.Sprintf("v%d", n))
		in.startIMDS(t)
		fleet[i] = in
		boxes[i] = boot(t, img, fmt.Sprintf("inst-%d", n), in.netns)
	}
	for i, c := range boxes {
		if state := c.waitRunning(t); state != "running" && state != "degraded" {
			t.Fatalf("inst-%d: system state %q", i+1, state)
		}
	}
	start := time.Now()
	converged(t, fleet, boxes, dnsSrv, 90*time.Second)
	t.Logf("fleet converged %s after boot", time.Since(start).Round(100*time.Millisecond))

	// Redeploy inst-2: a new instance with a new id and new addresses.
	before := map[int][2]string{}
	for _, i := range []int{0, 2} {
		before[i] = [2]string{boxes[i].must(t, "cat", "/etc/hosts"), boxes[i].must(t, "cat", "/etc/default/fleet-peers")}
	}
	dyn.Reset()
	old := *fleet[1]
	boxes[1].stop(t)
	fleet[1].stopIMDS()
	fleet[1].readdress(t, "10.200.0.22")
	fleet[1].publicIPv4 = "203.0.113.22"
	fleet[1].instanceID = "i-0f1ee700000000022"
	fleet[1].startIMDS(t)
	redeployed := time.Now()
	boxes[1] = boot(t, img, "inst-2b", fleet[1].netns)
	converged(t, fleet, boxes, dnsSrv, 60*time.Second)
	t.Logf("fleet saw the redeploy %s after it", time.Since(redeployed).Round(100*time.Millisecond))

	// Only the redeployed instance talked to the provider, only about its
	// own names, from its new addresses.
	for _, r := range dyn.Requests() {
		for _, h := range r.Hostnames {
			if !strings.HasPrefix(h, "inst-2.") {
				t.Errorf("after the redeploy, a DNS update for %s (%s): the others had nothing to change", h, r.RawQuery)
			}
		}
		if r.MyIP != "" && r.MyIP != fleet[1].localIPv4 && r.MyIP != fleet[1].publicIPv4 {
			t.Errorf("DNS update with myip=%s, not one of the new addresses", r.MyIP)
		}
	}
	if len(dyn.Requests()) == 0 {
		t.Error("the redeployed instance sent no DNS update")
	}
	// On the instances that stayed, only inst-2's lines changed.
	for i, files := range before {
		for j, name := range []string{"/etc/hosts", "/etc/default/fleet-peers"} {
			now := boxes[i].must(t, "cat", name)
			removed, added := lineDiff(files[j], now)
			for _, l := range append(removed, added...) {
				// The block's marker carries a checksum of its content.
				if strings.HasPrefix(l, "# BEGIN ec2boot sha256=") {
					continue
				}
				if !strings.Contains(l, "inst-2") && !strings.Contains(l, old.localIPv4) && !strings.Contains(l, fleet[1].localIPv4) {
					t.Errorf("inst-%d %s: a line not about inst-2 changed: %q\nbefore:\n%s\nafter:\n%s", i+1, name, l, files[j], now)
				}
			}
			if len(added) == 0 {
				t.Errorf("inst-%d %s did not change at all", i+1, name)
			}
		}
	}
	// No stale entry anywhere.
	for i, c := range boxes {
		for _, name := range []string{"/etc/hosts", "/etc/default/fleet-peers"} {
			if content := c.must(t, "cat", name); strings.Contains(content, old.localIPv4) {
				t.Errorf("inst-%d %s still has the old address %s:\n%s", i+1, name, old.localIPv4, content)
			}
		}
	}
	for _, name := range []string{"inst-2.internal." + zone, "inst-2." + zone} {
		addrs, err := dnsSrv.Lookup(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if a.String() == old.localIPv4 || a.String() == old.publicIPv4 {
				t.Errorf("DNS %s still has the old address %s", name, a)
			}
		}
	}
	// Settled, another timer run on each changes nothing: no DNS request,
	// no file written.
	stamps := func(c *container) string {
		return c.must(t, "stat", "-c", "%n %y", "/etc/hosts", "/etc/default/fleet-peers")
	}
	settled, runs := make([]string, len(boxes)), make([]int, len(boxes))
	for i, c := range boxes {
		settled[i], runs[i] = stamps(c), c.jobsDone(t, "ec2boot-refresh.service")
	}
	requests := dyn.Count()
	for i, c := range boxes {
		c.waitJobs(t, "ec2boot-refresh.service", runs[i]+1, 20*time.Second)
		if now := stamps(c); now != settled[i] {
			t.Errorf("inst-%d: a run with nothing changed rewrote files:\nbefore %s\nafter  %s", i+1, settled[i], now)
		}
	}
	if n := dyn.Count(); n != requests {
		t.Errorf("runs with nothing changed sent %d DNS update(s)", n-requests)
	}

	// Every instance's last run succeeded.
	for i, c := range boxes {
		if res := c.show(t, "ec2boot-refresh.service", "Result")["Result"]; res != "success" {
			log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", "ec2boot-refresh.service", "-n", "30")
			t.Errorf("inst-%d: ec2boot-refresh.service Result=%s\n%s", i+1, res, log)
		}
	}
}

// converged waits until DNS has every instance's two names at its current
// addresses and every instance's /etc/hosts and rendered file list every
// instance's internal name at its current private address.
func converged(t *testing.T, fleet []*instance, boxes []*container, dnsSrv *bind.Server, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var why string
	for time.Now().Before(deadline) {
		why = convergence(fleet, boxes, dnsSrv)
		if why == "" {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	var dump strings.Builder
	for i, c := range boxes {
		hosts, _ := c.exec(time.Minute, "cat", "/etc/hosts")
		env, _ := c.exec(time.Minute, "cat", "/etc/default/fleet-peers")
		log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", "ec2boot.service", "-u", "ec2boot-refresh.service", "-n", "25")
		fmt.Fprintf(&dump, "== inst-%d /etc/hosts\n%s\n== fleet-peers\n%s\n== journal\n%s\n", i+1, hosts, env, log)
	}
	t.Fatalf("fleet did not converge in %s: %s\n%s", limit, why, dump.String())
}

// convergence returns what is still wrong, or "".
func convergence(fleet []*instance, boxes []*container, dnsSrv *bind.Server) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, in := range fleet {
		n := i + 1
		for name, want := range map[string]string{
			fmt.Sprintf("inst-%d.internal.%s", n, zone): in.localIPv4,
			fmt.Sprintf("inst-%d.%s", n, zone):          in.publicIPv4,
		} {
			addrs, err := dnsSrv.Lookup(ctx, name)
			if err != nil {
				return err.Error()
			}
			if len(addrs) != 1 || addrs[0] != netip.MustParseAddr(want) {
				return fmt.Sprintf("DNS %s = %v, want %s", name, addrs, want)
			}
		}
	}
	for i, c := range boxes {
		hosts, err := c.exec(time.Minute, "cat", "/etc/hosts")
		if err != nil {
			return fmt.Sprintf("inst-%d: %v", i+1, err)
		}
		env, _ := c.exec(time.Minute, "cat", "/etc/default/fleet-peers")
		for j, in := range fleet {
			name := fmt.Sprintf("inst-%d.internal.%s", j+1, zone)
			if !hostsHas(hosts, in.localIPv4, name) {
				return fmt.Sprintf("inst-%d /etc/hosts lacks %s %s", i+1, in.localIPv4, name)
			}
			if !strings.Contains(env, in.localIPv4) {
				return fmt.Sprintf("inst-%d fleet-peers lacks %s", i+1, in.localIPv4)
			}
		}
	}
	return ""
}

// hostsHas reports whether a hosts file maps name to addr on one line.
func hostsHas(hosts, addr, name string) bool {
	for _, line := range strings.Split(hosts, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != addr {
			continue
		}
		for _, n := range f[1:] {
			if n == name {
				return true
			}
		}
	}
	return false
}

// lineDiff returns the lines only in a and only in b.
func lineDiff(a, b string) (removed, added []string) {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, l)
	}
	for l, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, l)
		}
	}
	sort.Strings(removed)
	return removed, added
}

// startHubNamed runs BIND on the hub address, port 53, primary for the
// zone, accepting TSIG-signed updates, and returns a client for it.
func startHubNamed(t *testing.T) *bind.Server {
	t.Helper()
	return bind.StartWith(t, bind.Options{Zone: zone, Listen: hubAddr + ":53"})
}
