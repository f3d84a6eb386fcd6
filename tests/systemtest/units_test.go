package systemtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var unitFiles = []string{"ec2boot.service", "ec2boot-early.service", "ec2boot-refresh.service", "ec2boot-leave.service", "ec2boot.timer"}

// verifyUnits runs `systemd-analyze verify` on unit files in a private
// mount namespace where /usr/bin carries an overlay with an ec2boot
// executable (verify refuses an ExecStart= binary that does not exist);
// the machine's /usr/bin is untouched. It returns verify's output.
func verifyUnits(t *testing.T, units ...string) (string, error) {
	t.Helper()
	needRoot(t, "mounts an overlay on /usr/bin in a private mount namespace")
	analyze := needTool(t, "systemd-analyze", "apt-get install systemd")
	unshare := needTool(t, "unshare", "apt-get install util-linux")
	dir := t.TempDir()
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(upper, "ec2boot"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := `mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$1,workdir=$2" /usr/bin && shift 2 && exec "$@"`
	args := append([]string{"-m", "--propagation", "private", "--", "sh", "-c", script, "sh", upper, work, analyze, "verify", "--man=no"}, units...)
	return runErr(time.Minute, nil, unshare, args...)
}

// verifyProblem turns verify's result into the CI rule: any output at all
// (warnings such as "Unknown key" come with exit status 0) or a failure.
func verifyProblem(out string, err error) error {
	if err != nil {
		return fmt.Errorf("systemd-analyze verify failed: %v\n%s", err, out)
	}
	if strings.TrimSpace(out) != "" {
		return errors.New("systemd-analyze verify printed warnings:\n" + out)
	}
	return nil
}

func TestUnitsVerify(t *testing.T) {
	var units []string
	for _, u := range unitFiles {
		units = append(units, filepath.Join(repoRoot(t), "systemd", u))
	}
	if err := verifyProblem(verifyUnits(t, units...)); err != nil {
		t.Error(err)
	}
}

// TestUnitsVerifyCatchesUnknownKey proves the check can fail: a unit with a
// misspelt key passes systemd-analyze's exit status but not ours.
func TestUnitsVerifyCatchesUnknownKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "systemd", "ec2boot.service"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "TimeoutStartSec=", "TimeoutStartSecs=", 1)
	p := filepath.Join(t.TempDir(), "ec2boot.service")
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, verr := verifyUnits(t, p)
	err = verifyProblem(out, verr)
	if err == nil || !strings.Contains(err.Error(), "Unknown key") {
		t.Fatalf("a unit with TimeoutStartSecs= passed the check: %v", err)
	}
}

// TestUnitsShape checks the properties the units promise, as systemd reads
// them, not as text: `systemd-analyze verify` accepts many valid units that
// would still do the wrong thing.
func TestUnitsShape(t *testing.T) {
	tests := []struct {
		unit string
		want map[string]string // key -> value as written in the file
	}{
		{"ec2boot.service", map[string]string{
			"Type": "oneshot", "ExecStart": "/usr/bin/ec2boot run", "Wants": "network-online.target",
			"WantedBy": "multi-user.target", "TimeoutStartSec": "5min", "SuccessExitStatus": "5",
			"RemainAfterExit": "yes", "Before": "multi-user.target shutdown.target",
			// No ExecStop=: it would not run after a failed boot run.
			"ExecStop": "",
		}},
		{"ec2boot-leave.service", map[string]string{
			// Always starts, so that its ExecStop= runs at shutdown
			// whatever the boot run's outcome, while the network is up.
			"Type": "oneshot", "RemainAfterExit": "yes", "ExecStart": "/bin/true",
			"ExecStop": "/usr/bin/ec2boot stop --timeout 20s", "TimeoutStopSec": "30s",
			"After": "network-online.target nss-lookup.target ec2boot.service", "Wants": "network-online.target",
			"Conflicts": "shutdown.target", "Before": "shutdown.target", "WantedBy": "multi-user.target",
		}},
		{"ec2boot-refresh.service", map[string]string{
			"Type": "oneshot", "ExecStart": "/usr/bin/ec2boot run", "TimeoutStartSec": "5min", "SuccessExitStatus": "5",
			"After": "network-online.target nss-lookup.target ec2boot.service",
		}},
		{"ec2boot-early.service", map[string]string{
			"Type": "oneshot", "ExecStart": "/usr/bin/ec2boot relocate", "DefaultDependencies": "no",
			"RemainAfterExit": "yes", "WantedBy": "sysinit.target",
		}},
		{"ec2boot.timer", map[string]string{
			"Unit": "ec2boot-refresh.service", "OnCalendar": "*:0/5", "RandomizedDelaySec": "5min", "Persistent": "yes", "WantedBy": "timers.target",
		}},
	}
	for _, tc := range tests {
		keys := unitKeys(t, filepath.Join(repoRoot(t), "systemd", tc.unit))
		for k, want := range tc.want {
			if got := keys[k]; got != want {
				t.Errorf("%s: %s=%q, want %q", tc.unit, k, got, want)
			}
		}
		if tc.unit == "ec2boot-refresh.service" {
			if keys["RemainAfterExit"] != "" || keys["WantedBy"] != "" || strings.Contains(keys["Before"], "multi-user") {
				t.Errorf("ec2boot-refresh.service must be a plain timer-started oneshot: %v", keys)
			}
		}
		for _, k := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts", "ReadOnlyPaths", "ReadWritePaths", "MountFlags"} {
			if v, ok := keys[k]; ok {
				t.Errorf("%s: %s=%s puts ec2boot in a private mount namespace: its mounts would stay invisible", tc.unit, k, v)
			}
		}
	}
	early := unitKeys(t, filepath.Join(repoRoot(t), "systemd", "ec2boot-early.service"))
	for _, before := range []string{"systemd-journal-flush.service", "rsyslog.service"} {
		if !strings.Contains(" "+early["Before"]+" ", " "+before+" ") {
			t.Errorf("ec2boot-early.service is not Before=%s", before)
		}
	}
	if !strings.Contains(early["After"], "local-fs.target") {
		t.Error("ec2boot-early.service is not After=local-fs.target")
	}
	svc := unitKeys(t, filepath.Join(repoRoot(t), "systemd", "ec2boot.service"))
	if !strings.Contains(svc["After"], "network-online.target") {
		t.Error("ec2boot.service is not After=network-online.target")
	}
}

// unitKeys reads key=value lines, comments skipped; a key given more than
// once (Before=, After=) collects its values, space separated.
func unitKeys(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if old, seen := keys[k]; seen && old != "" && v != "" {
			v = old + " " + v
		}
		keys[k] = v
	}
	return keys
}
