package systemtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bootUserData is the single instance's user-data: a template rendered
// from the facts that peer-app.service (in the image) is reloaded for, and
// an account with an inline password, which ec2boot
// accepts with a warning (a known message at warning priority).
const bootUserData = `[dns.accounts.probe]
server = "http://10.200.0.53:8245"
username = "probe"
password = "inline-is-discouraged"

[[templates]]
source = "/usr/share/ec2boot/templates/peers.env.tmpl"
destination = "/etc/default/ec2boot-peers"
reload = ["peer-app.service"]
`

// TestBootUnderSystemd boots the image with systemd as PID 1 on an
// "instance" whose metadata service answers at the real address, and
// checks what an operator would: the units ran at boot, the timer runs the
// service again, journald has ec2boot's messages with their priorities,
// and `systemctl status` is clean.
func TestBootUnderSystemd(t *testing.T) {
	img := image(t)
	in := &instance{netns: nsName("boot"), localIPv4: "10.200.0.1", publicIPv4: "203.0.113.1",
		instanceID: "i-0b00000000000b001", userData: makeMIME(t, bootUserData)}
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
	// One run at boot, then at least two by the timer (every 4 s here).
	c.waitJobs(t, "ec2boot.service", 1, 30*time.Second)
	c.waitJobs(t, "ec2boot-refresh.service", 2, 30*time.Second)

	early := c.show(t, "ec2boot-early.service", "ActiveState", "SubState", "Result", "ExecMainStatus")
	if early["ActiveState"] != "active" || early["SubState"] != "exited" || early["Result"] != "success" || early["ExecMainStatus"] != "0" {
		t.Errorf("ec2boot-early.service: %v, want active (exited), success, status 0", early)
	}
	svc := c.show(t, "ec2boot.service", "ActiveState", "SubState", "Result", "ExecMainStatus")
	if svc["ActiveState"] != "active" || svc["SubState"] != "exited" || svc["Result"] != "success" || svc["ExecMainStatus"] != "0" {
		t.Errorf("ec2boot.service: %v, want active (exited), success, status 0", svc)
	}
	refresh := c.show(t, "ec2boot-refresh.service", "ActiveState", "Result", "ExecMainStatus", "TriggeredBy")
	if refresh["Result"] != "success" || refresh["ExecMainStatus"] != "0" || refresh["TriggeredBy"] != "ec2boot.timer" {
		t.Errorf("ec2boot-refresh.service: %v, want success, status 0, triggered by ec2boot.timer", refresh)
	}
	timer := c.show(t, "ec2boot.timer", "ActiveState", "LastTriggerUSec")
	if timer["ActiveState"] != "active" || timer["LastTriggerUSec"] == "" || timer["LastTriggerUSec"] == "n/a" {
		t.Errorf("ec2boot.timer: %v, want active and triggered", timer)
	}
	status, _ := c.exec(time.Minute, "systemctl", "status", "--no-pager", "ec2boot.service", "ec2boot-early.service", "ec2boot-refresh.service", "ec2boot.timer")
	t.Logf("systemctl status:\n%s", status)
	for _, want := range []string{"TriggeredBy: ● ec2boot.timer", "status=0/SUCCESS", "Active: active (exited)", "Active: active (waiting)"} {
		if !strings.Contains(status, want) {
			t.Errorf("systemctl status lacks %q", want)
		}
	}
	if failed := c.must(t, "systemctl", "--failed", "--no-legend", "--plain"); strings.TrimSpace(failed) != "" {
		t.Errorf("failed units: %s", failed)
	}
	// The early unit ran before the journal was flushed to /var/log, and
	// systemd found no ordering cycle to break.
	earlyDone := c.show(t, "ec2boot-early.service", "ActiveEnterTimestampMonotonic")["ActiveEnterTimestampMonotonic"]
	flushStart := c.show(t, "systemd-journal-flush.service", "ExecMainStartTimestampMonotonic")["ExecMainStartTimestampMonotonic"]
	if a, b := atoi(earlyDone), atoi(flushStart); a == 0 || b == 0 || a > b {
		t.Errorf("ec2boot-early finished at %s µs, the journal flush started at %s µs: want early first", earlyDone, flushStart)
	}
	if cycles, _ := c.exec(time.Minute, "journalctl", "-b", "-q", "--no-pager", "--grep", "ordering cycle"); strings.TrimSpace(cycles) != "" {
		t.Errorf("systemd reports an ordering cycle:\n%s", cycles)
	}

	// journald: ec2boot's own entries (not systemd's about it) carry
	// priorities, and -p filters on them.
	entries := append(journal(t, c, "ec2boot.service"), journal(t, c, "ec2boot-refresh.service")...)
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
	// journalctl -t ec2boot finds the runs by their identifier, each ending
	// with its summary line; no entry repeats itself in a JSON= field.
	summaries := 0
	for _, e := range tagged(t, c) {
		if _, ok := e["JSON"]; ok {
			t.Errorf("journal entry with a JSON= field: %v", e)
		}
		if e["EXIT_CODE"] != "" && e["OUTCOME"] != "" && strings.HasSuffix(e["TOOK"], "s") {
			summaries++
		}
	}
	if summaries == 0 {
		t.Error("journalctl -t ec2boot shows no summary line (OUTCOME, EXIT_CODE, TOOK)")
	}
	warn := c.must(t, "journalctl", "-b", "-q", "--no-pager", "-u", "ec2boot.service", "-u", "ec2boot-refresh.service", "-p", "warning", "_COMM=ec2boot")
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
	// Reload through systemd. At boot peer-app.service waited for ec2boot:
	// the first run wrote the file and left the unit alone (it read the file
	// as it started) instead of waiting for its start job.
	if app := c.show(t, "peer-app.service", "ActiveState"); app["ActiveState"] != "active" {
		t.Errorf("peer-app.service: %v, want active", app)
	}
	if out, err := c.exec(time.Minute, "cat", "/run/peer-app.reloads"); err == nil {
		t.Errorf("peer-app.service was reloaded at boot, before it ran: %s", out)
	}
	// A changed file (here: edited by hand) is put back by the next timer
	// run, which then reloads the running unit, once.
	c.must(t, "sh", "-c", "echo '# edited by hand' >> /etc/default/ec2boot-peers")
	deadline := time.Now().Add(30 * time.Second)
	for {
		reloads, _ := c.exec(time.Minute, "cat", "/run/peer-app.reloads")
		peersFile := c.must(t, "cat", "/etc/default/ec2boot-peers")
		if reloads == "reloaded\n" && peersFile == rendered {
			break
		}
		if time.Now().After(deadline) {
			log, _ := c.exec(time.Minute, "journalctl", "-b", "--no-pager", "-u", "ec2boot-refresh.service", "-u", "peer-app.service")
			t.Fatalf("after a hand edit: reloads %q, file restored %v\n%s", reloads, peersFile == rendered, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The booted system agrees with the host's lint of the units.
	if out, err := c.exec(time.Minute, "systemd-analyze", "verify", "--man=no", "ec2boot.service", "ec2boot-early.service", "ec2boot-refresh.service", "ec2boot.timer"); verifyProblem(out, err) != nil {
		t.Errorf("inside the container: %v", verifyProblem(out, err))
	}
	// prepare-image on the running instance finds its state (dry: exit 4).
	out, err := c.exec(time.Minute, "ec2boot", "prepare-image")
	if err == nil || !strings.Contains(out, "would remove") || !strings.Contains(out, in.instanceID) {
		t.Errorf("prepare-image on a used instance: %v\n%s", err, out)
	}
}

// makeMIME wraps ec2boot's TOML the way docs/cloud-init.md says, with
// cloud-init's own tool, next to a cloud-config part, gzip-compressed: the
// instance then reads exactly what an operator would launch it with.
func makeMIME(t *testing.T, toml string) []byte {
	t.Helper()
	return makeMIMEOf(t, "#cloud-config\nmounts:\n  - [ephemeral0]\nmanage_etc_hosts: false\n", toml)
}

// makeMIMEOf is makeMIME with a cloud-config of the caller's.
func makeMIMEOf(t *testing.T, cloudConfig, toml string) []byte {
	t.Helper()
	ci := needTool(t, "cloud-init", "apt-get install cloud-init")
	dir := t.TempDir()
	files := map[string]string{"ec2boot.toml": toml, "cloud-config.yaml": cloudConfig}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(ci, "devel", "make-mime", "-a", "cloud-config.yaml:cloud-config", "-a", "ec2boot.toml:x-ec2boot", "-f")
	cmd.Dir = dir
	mime, err := cmd.Output() // the custom type's warning goes to stderr
	if err != nil {
		t.Fatalf("make-mime: %v", err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(mime)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// tagged returns this boot's journal entries with SYSLOG_IDENTIFIER=ec2boot.
func tagged(t *testing.T, c *container) []map[string]string {
	t.Helper()
	return parseJournal(c.must(t, "journalctl", "-b", "-q", "-o", "json", "--no-pager", "-t", "ec2boot"))
}

// journal returns this boot's journal entries for a unit, as JSON fields.
func journal(t *testing.T, c *container, unit string) []map[string]string {
	t.Helper()
	return parseJournal(c.must(t, "journalctl", "-b", "-q", "-o", "json", "--no-pager", "-u", unit))
}

// parseJournal reads journalctl -o json's lines; fields that are not
// strings (binary ones) are left out.
func parseJournal(out string) []map[string]string {
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

// TestRebootWithoutMetadata boots an instance twice from a persistent
// disk; at the second boot its metadata service is gone. ec2boot-early
// then works from what the first boot cached, and ec2boot.service runs on
// the cached facts and says so with exit status 3, which leaves the unit
// failed where monitoring sees it, while the files of the first boot stay.
func TestRebootWithoutMetadata(t *testing.T) {
	img := image(t)
	disk := filepath.Join(t.TempDir(), "disk")
	run(t, 5*time.Minute, "cp", "-a", img, disk)
	// How long to wait for the metadata service is the local config's
	// business (user-data comes from that service); keep it short here.
	if err := os.WriteFile(filepath.Join(disk, "etc", "ec2boot", "config.toml"), []byte("[imds]\ntimeout = \"3s\"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	in := &instance{netns: nsName("reboot"), localIPv4: "10.200.0.2", publicIPv4: "203.0.113.2",
		instanceID: "i-0b00000000000b002", userData: []byte(bootUserData)}
	newNetns(t, in.netns)
	in.wire(t, "", "")
	in.startIMDS(t)

	first := bootRoot(t, disk, "reboot-1", in.netns, false)
	if state := first.waitRunning(t); state != "running" {
		t.Fatalf("first boot: system state %q", state)
	}
	first.waitJobs(t, "ec2boot.service", 1, 30*time.Second)
	rendered := first.must(t, "cat", "/etc/default/ec2boot-peers")
	first.stop(t)
	in.stopIMDS()

	second := bootRoot(t, disk, "reboot-2", in.netns, false)
	// Boot completes, the timer's runs notwithstanding, with the boot run
	// failed where monitoring sees it.
	if state := second.waitRunning(t); state != "degraded" {
		t.Errorf("second boot without metadata: system state %q, want degraded (ec2boot.service failed)", state)
	}
	svc := second.show(t, "ec2boot.service", "Result", "ExecMainStatus")
	if svc["Result"] != "exit-code" || svc["ExecMainStatus"] != "3" {
		t.Errorf("ec2boot.service without metadata: %v, want exit-code 3", svc)
	}
	early := second.show(t, "ec2boot-early.service", "Result", "ExecMainStatus")
	if early["Result"] != "success" || early["ExecMainStatus"] != "0" {
		t.Errorf("ec2boot-early.service: %v, want success", early)
	}
	earlyLog := second.must(t, "journalctl", "-b", "-q", "--no-pager", "-o", "cat", "-u", "ec2boot-early.service", "_COMM=ec2boot")
	if strings.Contains(earlyLog, "first boot") || strings.TrimSpace(earlyLog) == "" {
		t.Errorf("ec2boot-early at the second boot did not use the cache:\n%s", earlyLog)
	}
	log := second.must(t, "journalctl", "-b", "-q", "--no-pager", "-o", "cat", "-u", "ec2boot.service", "_COMM=ec2boot")
	if !strings.Contains(log, "cached") {
		t.Errorf("ec2boot.service's log does not say it used cached facts:\n%s", log)
	}
	if now := second.must(t, "cat", "/etc/default/ec2boot-peers"); now != rendered {
		t.Errorf("the rendered file changed without metadata:\nbefore:\n%s\nafter:\n%s", rendered, now)
	}
	t.Logf("ec2boot-early at the second boot:\n%s\nec2boot.service:\n%s", earlyLog, log)
}
