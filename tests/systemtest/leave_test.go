package systemtest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

const leaveRecord = "queue.roles." + zone

// TestRoleLeaveAtShutdown: an instance that publishes itself under a DNS
// role record removes itself when its container shuts down: ExecStop= of
// ec2boot-leave.service runs `ec2boot stop` while the network is still up,
// although the boot run failed (which would keep an ExecStop= of
// ec2boot.service from running).
func TestRoleLeaveAtShutdown(t *testing.T) {
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
	named := bind.StartWith(t, bind.Options{Zone: zone, Listen: hubAddr + ":53", Keys: []string{"role-key"},
		UpdatePolicy: "grant role-key name " + leaveRecord + ". A AAAA;\ngrant role-key name _ec2boot-members." + leaveRecord + ". TXT;"})

	in := &instance{netns: nsName("lv"), localIPv4: "10.200.0.41", publicIPv4: "203.0.113.41", instanceID: "i-0dea7000000000041",
		userData: []byte(fmt.Sprintf(`[dns.accounts.corp]
provider = "rfc2136"
server = "%[1]s:53"
zone = %[2]q
key_file = "/etc/ec2boot/queue.key"

[peers]
nameserver = "%[1]s"

[peers.discover.queue]
source = "dns"
record = %[3]q
publish = { account = "corp" }
`, hubAddr, zone, leaveRecord))}
	newNetns(t, in.netns)
	in.wire(t, hub, "vlv")
	in.startIMDS(t)
	c := boot(t, img, "leave-1", in.netns)
	if state := c.waitRunning(t); state != "running" && state != "degraded" {
		t.Fatalf("system state %q", state)
	}
	// The boot run could not publish: the key is missing (it is the
	// image's business, the user-data holds no secret), so the run exits 2
	// and ec2boot.service is failed, which systemd would never stop.
	if st := c.show(t, "ec2boot.service", "Result"); st["Result"] != "exit-code" {
		t.Errorf("ec2boot.service without the key: %v, want Result=exit-code", st)
	}
	// The key is put in place; a timer run publishes.
	c.must(t, "sh", "-c", fmt.Sprintf("mkdir -p /etc/ec2boot && umask 077 && printf 'key \"role-key\" {\\n\\talgorithm hmac-sha256;\\n\\tsecret \"%s\";\\n};\\n' > /etc/ec2boot/queue.key", named.Secrets["role-key"]))
	// (Its outcome is not this test's business: the addresses below are.)
	_, _ = c.exec(2*time.Minute, "systemctl", "start", "ec2boot-refresh.service")
	if st := c.show(t, "ec2boot-leave.service", "ActiveState"); st["ActiveState"] != "active" {
		t.Fatalf("ec2boot-leave.service %v, want active", st)
	}
	addrs := func() []netip.Addr {
		a, err := named.Lookup(context.Background(), leaveRecord)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if got := addrs(); !slices.Equal(got, []netip.Addr{netip.MustParseAddr(in.localIPv4)}) {
		log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", "ec2boot-refresh.service", "-n", "40")
		t.Fatalf("%s = %v after the timer run, want %s\n%s", leaveRecord, got, in.localIPv4, log)
	}

	start := time.Now()
	c.stop(t)
	if got := addrs(); len(got) != 0 {
		t.Fatalf("%s = %v after the container shut down: ec2boot-leave.service did not remove the member\n%s", leaveRecord, got, tail(c.proc.Log(), 40))
	}
	t.Logf("shutdown with the leave took %s", time.Since(start).Round(100*time.Millisecond))
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
