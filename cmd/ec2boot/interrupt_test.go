package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

// TestSIGTERMWhilePeersResolve is the systemd stop of a run whose peer
// lookups hang (the unit's TimeoutStartSec, a shutdown): the real binary
// gets SIGTERM while its DNS questions are unanswered. Nothing may be
// recorded about the peers, /etc/hosts stays as it was, the later steps do
// not run, and the exit code and the status file say interrupted.
func TestSIGTERMWhilePeersResolve(t *testing.T) {
	p := startProvider(t)
	root := image(t, p)
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData(t, "web-1"), Values: map[string]string{
		"instance-id": "i-0e2e0000000000004", "local-ipv4": "10.1.0.14", "public-ipv4": "203.0.113.14",
	}})
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}
	if r := ec2boot(t, append([]string{"run"}, flags...)...); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	peersState := filepath.Join(root, "var/lib/ec2boot/peers.json")
	peersBefore, err := os.ReadFile(peersState)
	if err != nil {
		t.Fatal(err)
	}
	hostsBefore, _ := os.ReadFile(filepath.Join(root, "etc/hosts"))

	// The peers' name server now swallows every question.
	hole, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	asked := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := hole.ReadFrom(buf); err != nil {
				return
			}
			select {
			case asked <- struct{}{}:
			default:
			}
		}
	}()
	cfgPath := filepath.Join(root, "etc/ec2boot/config.toml")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.Replace(cfg, []byte("[peers]\nnameserver = \""+p.dns.Addr()+"\""),
		[]byte("[peers]\ntimeout = \"20s\"\nnameserver = \""+hole.LocalAddr().String()+"\""), 1)
	if !bytes.Contains(cfg, []byte(hole.LocalAddr().String())) {
		t.Fatalf("could not point the peers at the black hole:\n%s", cfg)
	}
	write(t, root, "/etc/ec2boot/config.toml", string(cfg))

	cmd := exec.Command(binary(t), append([]string{"run"}, flags...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the run never asked for its peers:\n%s", stderr.String())
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 75 {
		t.Fatalf("after SIGTERM: %v, want exit 75\n%s", err, stderr.String())
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the run took %s to stop: it waited for the lookups' timeout", took)
	}
	if after, _ := os.ReadFile(peersState); !bytes.Equal(after, peersBefore) {
		t.Errorf("the peers' state changed:\n%s\n->\n%s", peersBefore, after)
	}
	if after, _ := os.ReadFile(filepath.Join(root, "etc/hosts")); !bytes.Equal(after, hostsBefore) {
		t.Errorf("/etc/hosts rewritten after the interruption:\n%s", after)
	}
	var status struct {
		ExitCode int    `json:"exit_code"`
		Outcome  string `json:"outcome"`
		Steps    []struct{ Name, Status string }
	}
	b, err := os.ReadFile(filepath.Join(root, "run/ec2boot/status.json"))
	if err != nil || json.Unmarshal(b, &status) != nil {
		t.Fatalf("status.json: %v\n%s", err, b)
	}
	got := map[string]string{}
	for _, s := range status.Steps {
		got[s.Name] = s.Status
	}
	if status.ExitCode != 75 || status.Outcome != "interrupted" || got["hosts"] != "interrupted" ||
		got["render"] != "skipped" || got["disk"] != "skipped" {
		t.Errorf("status.json: %s", b)
	}
	for name, st := range got {
		if st == "failed" {
			t.Errorf("step %s reported failed after SIGTERM", name)
		}
	}
	if strings.Contains(stderr.String(), "stale") {
		t.Errorf("the interrupted lookups were reported as stale peers:\n%s", stderr.String())
	}
}
