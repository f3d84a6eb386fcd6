package systemtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// cloudInitExample is docs/cloud-init.md's multipart user-data, made with
// cloud-init's own make-mime from the committed example files, changed
// only where the test's closed network needs it: the dyndns2 account
// points at the hub's provider instead of a preset, names live in the
// hub's zone, the password comes from a printf instead of SSM, and no
// package is installed (there is no mirror to install HAProxy from; the
// image has a stand-in unit).
func cloudInitExample(t *testing.T) []byte {
	t.Helper()
	cfg, err := os.ReadFile(exampleFile(t, "cloud-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	toml, err := os.ReadFile(exampleFile(t, "ec2boot.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cloudConfig := replaceAll(t, string(cfg),
		"aws ssm get-parameter --name /fleet/dyndns-password --with-decryption --query Parameter.Value --output text", "printf %s "+dynSecret,
		"packages:\n  - haproxy\n", "")
	ours := replaceAll(t, string(toml),
		`preset = "dyn"`, `server = "http://`+hubAddr+`:8245"`,
		"example.org", zone)
	ours = "[dns]\ncheck_server = \"" + hubAddr + ":53\"\n\n[peers]\nnameserver = \"" + hubAddr + "\"\n\n" + ours
	return makeMIMEOf(t, cloudConfig, ours)
}

// replaceAll applies old/new pairs and fails when an old text is missing,
// so that the example cannot drift away from what this test changes.
func replaceAll(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("the example no longer contains %q", pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

// TestCloudInitSideBySide boots an image with Debian's cloud-init and the
// ec2boot package under systemd, cloud-init's Ec2 datasource reading the
// metadata emulator at 169.254.169.254 inside the instance's network
// namespace, with the documented multipart user-data. It proves the two
// agents split the boot as docs/cloud-init.md says: cloud-init takes its
// part and ignores ours; ec2boot-early runs before cloud-init-local (so
// cloud-init's log is not hidden under a relocated /var/log);
// ec2boot.service runs after cloud-init.service (so bootcmd's password
// file exists and cloud-init's mounts and /etc/hosts modules are done);
// neither touches what the other owns; and the example works end to end:
// names registered, the HAProxy backend rendered and reloaded.
func TestCloudInitSideBySide(t *testing.T) {
	cacheDir(t)
	needRoot(t, "creates network namespaces and boots containers")
	if _, err := aemm.Find(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	// The hub namespace has no route to the Debian mirror: the base rootfs
	// is built (once per cache) out here.
	baseRootfs(t, withCloudInit)
	if !inHub(t) {
		return
	}
	hub := os.Getenv(hubEnv)
	userData := cloudInitExample(t)
	img := imageOf(t, withCloudInit)

	ipCmd(t, "link", "add", "br0", "type", "bridge")
	ipCmd(t, "link", "set", "br0", "up")
	ipCmd(t, "addr", "add", hubAddr+"/24", "dev", "br0")
	dnsSrv := startHubNamed(t)
	dyn := &dyndns.Server{Users: map[string]string{"fleet-updater": dynSecret}, Backend: dnsSrv}
	if err := dyn.Start(hubAddr + ":8245"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dyn.Close() })
	// The example's other two web servers are up already.
	for name, addr := range map[string]string{"web-2.internal." + zone: "10.200.0.32", "web-3.internal." + zone: "10.200.0.33"} {
		if err := dnsSrv.Update(context.Background(), name, []netip.Addr{netip.MustParseAddr(addr)}); err != nil {
			t.Fatal(err)
		}
	}

	// The emulator listens on the namespace's loopback; cloud-init and
	// ec2boot both reach it through the dated-versions front on the real
	// metadata address. cloud-init cannot identify EC2 in a container (it
	// ignores DMI there) and then asks without IMDSv2 tokens, so the
	// emulator accepts both, as an instance with http_tokens "optional"
	// does; ec2boot's own requests are checked to carry a token.
	in := &instance{netns: nsName("ci"), localIPv4: "10.200.0.31", publicIPv4: "203.0.113.31",
		instanceID: "i-0c10d1417000000a1", userData: userData, imdsAddr: "127.0.0.1:1338", imdsV1: true}
	newNetns(t, in.netns)
	in.wire(t, hub, "vci")
	in.startIMDS(t)
	front := serveDatedIMDS(t, in.netns, "169.254.169.254:80", in.imdsAddr)

	c := boot(t, img, "cloud-init-1", in.netns)
	state := c.waitRunning(t)
	status, _ := c.exec(3*time.Minute, "cloud-init", "status", "--wait", "--long")
	t.Logf("system %s; cloud-init status:\n%s", state, status)
	if state != "running" {
		failed, _ := c.exec(time.Minute, "systemctl", "--failed", "--no-pager")
		log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-p", "warning")
		ciLog, _ := c.exec(time.Minute, "grep", "-E", "Ec2|WARNING|ERROR|dhcp|datasource", "/var/log/cloud-init.log")
		st, _ := c.exec(time.Minute, "ec2boot", "status")
		t.Fatalf("system state %q, want running\n%s\n%s\ncloud-init.log:\n%s\nec2boot status:\n%s", state, failed, log, ciLog, st)
	}

	// cloud-init ran from the Ec2 datasource, handled the cloud-config and
	// left our part alone, without errors.
	for _, want := range []string{"status: done", "DataSourceEc2"} {
		if !strings.Contains(status, want) {
			t.Errorf("cloud-init status lacks %q", want)
		}
	}
	var result struct {
		V1 struct {
			Datasource string   `json:"datasource"`
			Errors     []string `json:"errors"`
		} `json:"v1"`
	}
	if err := json.Unmarshal([]byte(c.must(t, "cat", "/run/cloud-init/result.json")), &result); err != nil || len(result.V1.Errors) != 0 {
		t.Errorf("cloud-init's result: %+v (%v), want no errors", result.V1, err)
	}
	ciLog := c.must(t, "cat", "/var/log/cloud-init.log")
	for _, want := range []string{"Unhandled unknown content-type (text/x-ec2boot)", "Running module bootcmd",
		"Running module mounts", "Running module update_etc_hosts"} {
		if !strings.Contains(ciLog, want) {
			t.Errorf("cloud-init.log lacks %q", want)
		}
	}

	// Both read the metadata service; ec2boot only ever with a token.
	if len(front.requests("Cloud-Init")) == 0 {
		t.Error("cloud-init never asked the metadata service")
	}
	ours := front.requests("ec2boot")
	if len(ours) == 0 {
		t.Error("ec2boot never asked the metadata service")
	}
	for _, r := range ours {
		if r.method == http.MethodGet && !r.token {
			t.Errorf("ec2boot asked for %s without an IMDSv2 token", r.path)
		}
	}

	// The order the units promise.
	earlyDone := atoi(c.show(t, "ec2boot-early.service", "ActiveEnterTimestampMonotonic")["ActiveEnterTimestampMonotonic"])
	localStart := atoi(c.show(t, "cloud-init-local.service", "ExecMainStartTimestampMonotonic")["ExecMainStartTimestampMonotonic"])
	initDone := atoi(c.show(t, "cloud-init.service", "ActiveEnterTimestampMonotonic")["ActiveEnterTimestampMonotonic"])
	runStart := atoi(c.show(t, "ec2boot.service", "ExecMainStartTimestampMonotonic")["ExecMainStartTimestampMonotonic"])
	t.Logf("ec2boot-early done %d µs, cloud-init-local start %d µs, cloud-init done %d µs, ec2boot start %d µs", earlyDone, localStart, initDone, runStart)
	if earlyDone == 0 || localStart == 0 || earlyDone > localStart {
		t.Errorf("ec2boot-early finished at %d µs, cloud-init-local started at %d µs: want ec2boot-early first", earlyDone, localStart)
	}
	if initDone == 0 || runStart == 0 || runStart < initDone {
		t.Errorf("ec2boot.service started at %d µs, cloud-init.service finished at %d µs: want cloud-init first", runStart, initDone)
	}
	svc := c.show(t, "ec2boot.service", "Result", "ExecMainStatus")
	if svc["Result"] != "success" || svc["ExecMainStatus"] != "0" {
		log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", "ec2boot.service")
		t.Errorf("ec2boot.service: %v, want success and status 0\n%s", svc, log)
	}
	if cycles, _ := c.exec(time.Minute, "journalctl", "-b", "-q", "--no-pager", "--grep", "ordering cycle"); strings.TrimSpace(cycles) != "" {
		t.Errorf("systemd reports an ordering cycle:\n%s", cycles)
	}

	// Neither touched what the other owns: no cloud-init mount line, nothing
	// mounted at /mnt by cloud-init, and /etc/hosts carries ec2boot's block
	// and nothing from cloud-init's template.
	if fstab := c.must(t, "cat", "/etc/fstab"); strings.Contains(fstab, "comment=cloudconfig") {
		t.Errorf("cloud-init wrote a mount into /etc/fstab:\n%s", fstab)
	}
	hosts := c.must(t, "cat", "/etc/hosts")
	if !strings.Contains(hosts, "# BEGIN ec2boot") || strings.Contains(hosts, "manage_etc_hosts") {
		t.Errorf("/etc/hosts:\n%s", hosts)
	}
	// With the documented configuration, ec2boot finds nothing to warn about.
	if warn, _ := c.exec(time.Minute, "journalctl", "-b", "-q", "--no-pager", "-u", "ec2boot.service", "-p", "warning", "--grep", "cloud-init"); strings.TrimSpace(warn) != "" {
		t.Errorf("ec2boot warns about cloud-init although the example turns both modules off:\n%s", warn)
	}

	// The example end to end: bootcmd's password, the names in DNS, the
	// HAProxy backend rendered from the resolved peers.
	if mode := strings.TrimSpace(c.must(t, "stat", "-c", "%a", "/etc/ec2boot/dns-password")); mode != "600" {
		t.Errorf("/etc/ec2boot/dns-password has mode %s, want 600 (bootcmd's umask)", mode)
	}
	for name, want := range map[string]string{"web-1.internal." + zone: in.localIPv4, "web-1." + zone: in.publicIPv4} {
		addrs, err := dnsSrv.Lookup(context.Background(), name)
		if err != nil || len(addrs) != 1 || addrs[0].String() != want {
			t.Errorf("DNS %s = %v (%v), want %s", name, addrs, err, want)
		}
	}
	backend := c.must(t, "cat", "/etc/haproxy/web-backend.cfg")
	for _, want := range []string{"server web-1.internal." + zone + " " + in.localIPv4 + ":8080 check",
		"server web-2.internal." + zone + " 10.200.0.32:8080 check", "server web-3.internal." + zone + " 10.200.0.33:8080 check"} {
		if !strings.Contains(backend, want) {
			t.Errorf("/etc/haproxy/web-backend.cfg lacks %q:\n%s", want, backend)
		}
	}

	// Both read cloud-init's merged configuration alike. A file in
	// cloud.cfg.d turning both modules on is overridden by the user-data's
	// cloud-config: ec2boot does not warn, and cloud-init's own
	// update_etc_hosts leaves /etc/hosts alone.
	c.must(t, "sh", "-c", "printf 'manage_etc_hosts: true\\nmounts:\\n  - [ephemeral0, /mnt]\\n' > /etc/cloud/cloud.cfg.d/98-test-hazard.cfg")
	if plan, _ := c.exec(time.Minute, "ec2boot", "plan"); strings.Contains(plan, "manage_etc_hosts") || strings.Contains(plan, "ephemeral0") {
		t.Errorf("ec2boot plan warns although the user-data's cloud-config turns both modules off:\n%s", plan)
	}
	c.must(t, "cloud-init", "single", "--name", "update_etc_hosts", "--frequency", "always")
	if now := c.must(t, "cat", "/etc/hosts"); now != hosts {
		t.Errorf("cloud-init's update_etc_hosts changed /etc/hosts although manage_etc_hosts is false:\n%s", now)
	}
	// With the instance's cloud-config turning them on (the file both tools
	// read it from), ec2boot warns about /etc/hosts, cloud-init's template
	// rewrites it, and ec2boot's next run puts its block back. (The mounts
	// warning comes only where ec2boot would mount an instance store, and a
	// container has none: the relocate tests cover it.)
	c.must(t, "python3", "-c", `import yaml
p = "/var/lib/cloud/instance/cloud-config.txt"
d = yaml.safe_load(open(p))
d["manage_etc_hosts"] = True
d["mounts"] = [["ephemeral0", "/mnt"]]
open(p, "w").write("#cloud-config\n" + yaml.safe_dump(d))`)
	if plan, _ := c.exec(time.Minute, "ec2boot", "plan"); !strings.Contains(plan, `cloud-init manage_etc_hosts is "true"`) {
		t.Errorf("ec2boot plan does not warn about cloud-init's manage_etc_hosts:\n%s", plan)
	}
	c.must(t, "cloud-init", "single", "--name", "update_etc_hosts", "--frequency", "always")
	if rewritten := c.must(t, "cat", "/etc/hosts"); strings.Contains(rewritten, "# BEGIN ec2boot") {
		t.Fatalf("cloud-init's update_etc_hosts did not rewrite /etc/hosts:\n%s", rewritten)
	}
	_, _ = c.exec(time.Minute, "ec2boot", "run")
	if restored := c.must(t, "cat", "/etc/hosts"); !strings.Contains(restored, "# BEGIN ec2boot") {
		t.Errorf("ec2boot run did not restore its block:\n%s", restored)
	}
}
