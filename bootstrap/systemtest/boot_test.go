package systemtest

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// bootUserData is the single instance's user-data: a template rendered
// from the facts, and an account with an inline password, which ec2boot
// accepts with a warning (a known message at warning priority).
const bootUserData = `[dns.accounts.probe]
server = "http://10.200.0.53:8245"
username = "probe"
password = "inline-is-discouraged"

[[templates]]
source = "/usr/share/ec2boot/templates/peers.env.tmpl"
destination = "/etc/default/ec2boot-peers"
`

// TestBootUnderSystemd boots the image with systemd as PID 1 on an
// "instance" whose metadata service answers at the real address, and
// checks what an operator would: the units ran at boot, the timer runs the
// service again, journald has ec2boot's messages with their priorities,
// and `systemctl status` is clean.
func TestBootUnderSystemd(t *testing.T) {
	img := image(t)
	in := &instance{netns: nsName("boot"), localIPv4: "10.200.0.1", publicIPv4: "203.0.113.1",
		instanceID: "i-0b00000000000b001", userData: []byte(bootUserData)}
	newNetns(t, in.netns)
	in.wire(t, "", "")
	in.startIMDS(t)

	c := boot(t, img, "boot-1", in.netns)
	if state := c.waitRunning(t); state != "running" {
		failed, _ := c.exec(time.Minute, "systemctl", "--failed", "--no-pager")
		log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-o", "with-unit", "-u", "ec2boot.service", "-u", "ec2boot-early.service", "-p", "warning")
		fields, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-o", "json", "-u", "ec2boot.service", "-p", "err")
		t.Fatalf("system state %q, want running\n%s\n%s\n%s", state, failed, log, fields)
	}
	// One run at boot, then at least one by the timer (every 4 s here).
	c.waitJobs(t, "ec2boot.service", 2, 30*time.Second)

	early := c.show(t, "ec2boot-early.service", "ActiveState", "SubState", "Result", "ExecMainStatus")
	if early["ActiveState"] != "active" || early["SubState"] != "exited" || early["Result"] != "success" || early["ExecMainStatus"] != "0" {
		t.Errorf("ec2boot-early.service: %v, want active (exited), success, status 0", early)
	}
	svc := c.show(t, "ec2boot.service", "ActiveState", "Result", "ExecMainStatus", "TriggeredBy")
	if svc["Result"] != "success" || svc["ExecMainStatus"] != "0" || svc["TriggeredBy"] != "ec2boot.timer" {
		t.Errorf("ec2boot.service: %v, want success, status 0, triggered by ec2boot.timer", svc)
	}
	timer := c.show(t, "ec2boot.timer", "ActiveState", "LastTriggerUSec")
	if timer["ActiveState"] != "active" || timer["LastTriggerUSec"] == "" || timer["LastTriggerUSec"] == "n/a" {
		t.Errorf("ec2boot.timer: %v, want active and triggered", timer)
	}
	status, _ := c.exec(time.Minute, "systemctl", "status", "--no-pager", "ec2boot.service", "ec2boot-early.service", "ec2boot.timer")
	t.Logf("systemctl status:\n%s", status)
	for _, want := range []string{"TriggeredBy: ● ec2boot.timer", "status=0/SUCCESS", "Active: active (exited)", "Active: active (waiting)"} {
		if !strings.Contains(status, want) {
			t.Errorf("systemctl status lacks %q", want)
		}
	}
	if failed := c.must(t, "systemctl", "--failed", "--no-legend", "--plain"); strings.TrimSpace(failed) != "" {
		t.Errorf("failed units: %s", failed)
	}

	// journald: ec2boot's own entries (not systemd's about it) carry
	// priorities, and -p filters on them.
	entries := journal(t, c, "ec2boot.service")
	prio := map[string]int{}
	for _, e := range entries {
		if e["_COMM"] == "ec2boot" {
			prio[e["PRIORITY"]]++
		}
	}
	t.Logf("ec2boot's journal entries by priority: %v", prio)
	if prio["6"] == 0 {
		t.Error("no info (priority 6) entry from ec2boot in the journal")
	}
	if prio["4"] == 0 {
		t.Error("no warning (priority 4) entry from ec2boot: the inline password warning should be one")
	}
	warn := c.must(t, "journalctl", "-b", "-q", "--no-pager", "-u", "ec2boot.service", "-p", "warning", "_COMM=ec2boot")
	if !strings.Contains(warn, "inline password") {
		t.Errorf("journalctl -p warning does not show the inline password warning:\n%s", warn)
	}

	// What the run produced: facts from this instance's metadata, the
	// rendered template.
	facts := c.must(t, "ec2boot", "facts", "--json")
	var f struct {
		InstanceID string `json:"instance_id"`
		LocalIPv4  string `json:"local_ipv4"`
	}
	if err := json.Unmarshal([]byte(facts), &f); err != nil || f.InstanceID != in.instanceID || f.LocalIPv4 != in.localIPv4 {
		t.Errorf("ec2boot facts = %s (%v), want %s / %s", facts, err, in.instanceID, in.localIPv4)
	}
	rendered := c.must(t, "cat", "/etc/default/ec2boot-peers")
	if !strings.Contains(rendered, "SELF_IPV4='10.200.0.1'") || !strings.Contains(rendered, in.instanceID) {
		t.Errorf("rendered template:\n%s", rendered)
	}
	// The booted system agrees with the host's lint of the units.
	if out, err := c.exec(time.Minute, "systemd-analyze", "verify", "--man=no", "ec2boot.service", "ec2boot-early.service", "ec2boot.timer"); verifyProblem(out, err) != nil {
		t.Errorf("inside the container: %v", verifyProblem(out, err))
	}
	// prepare-image on the running instance finds its state (dry: exit 4).
	out, err := c.exec(time.Minute, "ec2boot", "prepare-image")
	if err == nil || !strings.Contains(out, "would remove") || !strings.Contains(out, in.instanceID) {
		t.Errorf("prepare-image on a used instance: %v\n%s", err, out)
	}
}

// journal returns this boot's journal entries for a unit, as JSON fields.
func journal(t *testing.T, c *container, unit string) []map[string]string {
	t.Helper()
	out := c.must(t, "journalctl", "-b", "-q", "-o", "json", "--no-pager", "-u", unit)
	var entries []map[string]string
	s := bufio.NewScanner(strings.NewReader(out))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		var raw map[string]any
		if json.Unmarshal(s.Bytes(), &raw) != nil {
			continue
		}
		e := map[string]string{}
		for k, v := range raw {
			if str, ok := v.(string); ok {
				e[k] = str
			}
		}
		entries = append(entries, e)
	}
	return entries
}
