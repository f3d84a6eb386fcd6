package relocate

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/internal/testenv"
)

// The early unit runs without the metadata service: no facts, only the
// cached config and the state on the root disk.
func TestEarlyWithoutFacts(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, before := tmpfsScenario(t, "64m")
	env := newEnv(t, root)
	env.Facts = nil
	res, err := Early(context.Background(), env)
	if err != nil || len(res.Changed) != 2 {
		t.Fatalf("Early = %+v, %v; want /var/log and /var/tmp relocated", res, err)
	}
	if d := before.Diff(manifestOf(t, root+"/var/log")); len(d) > 0 {
		t.Errorf("relocated copy differs: %q", d)
	}
	m, err := readMarker(root + "/mnt/ec2boot")
	if err != nil || m.InstanceID != "i-0123456789abcdef0" {
		t.Errorf("marker = %+v, %v; want the state's instance-id", m, err)
	}
	// The networked run later in the same boot finds nothing to do.
	res, planText, err := runStep(t, New(), newEnv(t, root))
	if err != nil || len(res.Changed) != 0 || !strings.Contains(planText, "/var/log: already relocated") {
		t.Errorf("run after Early: %+v, %v\n%s", res, err, planText)
	}
	// A plan (dry run) from the early entry point changes nothing.
	env.DryRun = true
	if res, err := Early(context.Background(), env); err != nil || len(res.Changed) != 0 {
		t.Errorf("dry-run Early = %+v, %v", res, err)
	}
}

func TestDisabledDoesNothing(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	env := newEnv(t, root)
	off := false
	env.Config.Relocate.Enabled = &off
	res, planText, err := runStep(t, New(), env)
	if err != nil || len(res.Changed)+len(res.Degraded) != 0 || !strings.Contains(planText, "disabled") {
		t.Errorf("disabled: %+v, %v, %q", res, err, planText)
	}
	if got := mountsAt(t, root+"/var/log"); len(got) != 0 {
		t.Errorf("mounted %v", got)
	}
}

func TestReopenFor(t *testing.T) {
	custom := []config.Reopen{{Process: "rsyslogd", Command: []string{"systemctl", "restart", "rsyslog"}}, {Process: "nginx", Signal: "USR1"}}
	tests := []struct {
		comm string
		cfg  []config.Reopen
		want config.Reopen
		ok   bool
	}{
		{"systemd-journal", nil, config.Reopen{Process: "systemd-journal", Command: []string{"journalctl", "--relinquish-var"}}, true},
		{"rsyslogd", nil, config.Reopen{Process: "rsyslogd", Signal: "HUP"}, true},
		{"rsyslogd", custom, custom[0], true},
		{"nginx", custom, custom[1], true},
		{"nginx", nil, config.Reopen{}, false},
	}
	for _, tt := range tests {
		got, ok := reopenFor(tt.cfg, tt.comm)
		if d := cmp.Diff(tt.want, got); d != "" || ok != tt.ok {
			t.Errorf("reopenFor(%s) = %v (-want +got):\n%s", tt.comm, ok, d)
		}
	}
}
