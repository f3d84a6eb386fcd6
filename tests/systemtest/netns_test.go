package systemtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
	"github.com/ec2boot/ec2boot/internal/testpeer/daemon"
)

// instance is one EC2 "instance": a network namespace with an address on
// the fleet's bridge and its own metadata emulator on 169.254.169.254:80.
type instance struct {
	netns      string
	localIPv4  string
	publicIPv4 string
	instanceID string
	userData   []byte
	// nameTag is the instance's Name tag in the metadata ("" keeps the
	// emulator's own).
	nameTag string
	// imdsAddr is where the emulator listens in the namespace: host:port,
	// 169.254.169.254:80 when empty.
	imdsAddr string
	// imdsV1 lets the emulator answer requests without a session token
	// too (a launch template's http_tokens "optional").
	imdsV1 bool
	// inventory, when set, is the instance as the EC2 API lists it: the
	// emulator then serves what awsapi.Instance.AEMMConfig makes of it
	// (identity, addresses, tags, the role's credentials) with userData,
	// so that what the instance reads about itself and what its peers
	// discover agree. The fields above other than netns, imdsAddr and
	// userData are then unused.
	inventory *awsapi.Instance
	imds      *daemon.Process
}

// ipCmd runs ip(8) and fails the test on error.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	run(t, 10*time.Second, "ip", args...)
}

// newNetns creates a network namespace with lo up, deleted at cleanup.
func newNetns(t *testing.T, name string) {
	t.Helper()
	needRoot(t, "creates network namespaces")
	needTool(t, "ip", "apt-get install iproute2")
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() {
		if out, err := runErr(10*time.Second, nil, "ip", "netns", "del", name); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
}

// nsName makes a namespace name unique to this test process.
func nsName(short string) string { return fmt.Sprintf("e2b%d-%s", os.Getpid()%100000, short) }

// startIMDS runs AWS's metadata emulator inside the instance's namespace on
// the real metadata address, IMDSv2 only, serving the instance's values
// and user-data, and waits until it hands out tokens.
func (in *instance) startIMDS(t *testing.T) {
	t.Helper()
	bin, err := aemm.Find()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	dir := t.TempDir()
	listen := in.imdsAddr
	if listen == "" {
		listen = "169.254.169.254:80"
	}
	imdsHost, imdsPort, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatal(err)
	}
	b, err := in.imdsConfig(imdsHost, imdsPort)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "aemm.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", in.netns, bin, "-c", cfg)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if in.imds, err = daemon.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.stopIMDS)
	// Ready when a token PUT succeeds from inside the namespace.
	probe := `for i in $(seq 1 300); do curl -sf -o /dev/null -m 1 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://` + listen + `/latest/api/token && exit 0; sleep 0.02; done; exit 1`
	if out, err := runErr(30*time.Second, nil, "ip", "netns", "exec", in.netns, "sh", "-c", probe); err != nil {
		t.Fatalf("metadata emulator in %s not ready: %v %s\n%s", in.netns, err, out, in.imds.Log())
	}
}

// fleetRegion is the region of every simulated instance.
const fleetRegion = "eu-west-1"

// imdsConfig is the emulator's configuration file for the instance,
// listening on imdsHost:imdsPort.
func (in *instance) imdsConfig(imdsHost, imdsPort string) ([]byte, error) {
	if in.inventory != nil {
		c, err := in.inventory.AEMMConfig(fleetRegion)
		if err != nil {
			return nil, err
		}
		c.UserData = in.userData
		c.Host = imdsHost
		if c.Port, err = strconv.Atoi(imdsPort); err != nil {
			return nil, fmt.Errorf("metadata port %q: %w", imdsPort, err)
		}
		return c.JSON()
	}
	host := "ip-" + strings.ReplaceAll(in.localIPv4, ".", "-") + ".eu-west-1.compute.internal"
	doc := map[string]any{
		"imdsv2": !in.imdsV1,
		"server": map[string]string{"hostname": imdsHost, "port": imdsPort},
		"metadata": map[string]any{"values": map[string]string{
			"instance-id": in.instanceID, "local-ipv4": in.localIPv4, "public-ipv4": in.publicIPv4,
			"hostname": host, "local-hostname": host,
			"placement-availability-zone": "eu-west-1b", "placement-region": "eu-west-1",
		}},
		"dynamic": map[string]any{"values": map[string]any{"instance-identity-document": map[string]any{
			"accountId": "111122223333", "availabilityZone": "eu-west-1b", "region": "eu-west-1",
			"instanceId": in.instanceID, "privateIp": in.localIPv4, "instanceType": "m5d.large",
			"imageId": "ami-0123456789abcdef0", "architecture": "x86_64", "version": "2017-09-30",
			"pendingTime": "2026-01-01T00:00:00Z",
		}}},
		"userdata": map[string]any{"values": map[string]string{"userdata": base64.StdEncoding.EncodeToString(in.userData)}},
	}
	if in.nameTag != "" {
		doc["metadata"].(map[string]any)["values"].(map[string]string)["tags-instance-name"] = in.nameTag
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("metadata emulator config: %w", err)
	}
	return b, nil
}

func (in *instance) stopIMDS() {
	if in.imds == nil {
		return
	}
	in.imds.Kill()
	in.imds = nil
}

// wire puts the metadata address on the namespace's lo and its private
// address on a veth whose other end joins the bridge br0 in hubNS (or,
// without a hub, stays in the namespace: the address is still on a real
// interface, as ec2boot expects).
func (in *instance) wire(t *testing.T, hubNS, hubPort string) {
	t.Helper()
	ipCmd(t, "-n", in.netns, "addr", "add", "169.254.169.254/32", "dev", "lo")
	if hubNS == "" {
		ipCmd(t, "-n", in.netns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer")
		ipCmd(t, "-n", in.netns, "link", "set", "eth0-peer", "up")
	} else {
		ipCmd(t, "-n", in.netns, "link", "add", "eth0", "type", "veth", "peer", "name", hubPort, "netns", hubNS)
		ipCmd(t, "-n", hubNS, "link", "set", hubPort, "master", "br0")
		ipCmd(t, "-n", hubNS, "link", "set", hubPort, "up")
	}
	ipCmd(t, "-n", in.netns, "addr", "add", in.localIPv4+"/24", "dev", "eth0")
	ipCmd(t, "-n", in.netns, "link", "set", "eth0", "up")
}

// readdress changes the instance's private address (a redeploy gets a new one).
func (in *instance) readdress(t *testing.T, addr string) {
	t.Helper()
	ipCmd(t, "-n", in.netns, "addr", "del", in.localIPv4+"/24", "dev", "eth0")
	in.localIPv4 = addr
	ipCmd(t, "-n", in.netns, "addr", "add", in.localIPv4+"/24", "dev", "eth0")
}

// hubEnv marks the re-executed test process that runs inside the hub
// namespace; its value is the namespace's name.
const hubEnv = "EC2BOOT_SYSTEMTEST_HUB"

// inHub runs the calling test again inside a fresh network namespace (the
// fleet's hub) and reports whether the caller is that inner run. There the
// test's own servers (BIND, the dyndns2 provider) listen on the hub
// address that every instance reaches over the bridge, and nothing touches
// the machine's own network. The outer run reports the inner one's output
// and fails when it fails.
func inHub(t *testing.T) bool {
	t.Helper()
	if os.Getenv(hubEnv) != "" {
		return true
	}
	ns := nsName("hub")
	newNetns(t, ns)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pattern := "^" + regexp.QuoteMeta(t.Name()) + "$"
	// nsenter, not `ip netns exec`: that also remounts /sys in a mount
	// namespace of its own, hiding the cgroup mounts systemd-nspawn needs.
	cmd := exec.Command("nsenter", "--net=/run/netns/"+ns, "--", self, "-test.run="+pattern, "-test.v", "-test.count=1", "-test.timeout=9m")
	cmd.Env = append(os.Environ(), hubEnv+"="+ns)
	out, err := cmd.CombinedOutput()
	t.Logf("inside the hub namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("test inside the hub namespace failed: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("test inside the hub namespace did not pass (skipped?)")
	}
	return false
}
