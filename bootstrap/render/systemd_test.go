package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeSystemctl writes a systemctl stand-in that answers `show` from
// per-unit files in dir and records every call; a file "fail-VERB" makes
// that verb fail the way systemctl does.
func fakeSystemctl(t *testing.T, units map[string]string) (prog, calls string) {
	t.Helper()
	dir := t.TempDir()
	for unit, props := range units {
		if err := os.WriteFile(filepath.Join(dir, unit), []byte(props), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls = filepath.Join(dir, "calls")
	prog = filepath.Join(dir, "systemctl")
	script := `#!/bin/sh
echo "$*" >> ` + calls + `
verb=$1; unit=$(eval echo \${$#})
case $verb in
show)
	if [ -f ` + dir + `/$unit ]; then cat ` + dir + `/$unit; else printf 'LoadState=not-found\nActiveState=inactive\n'; fi ;;
*)
	if [ -f ` + dir + `/fail-$verb ]; then
		echo "Job for $unit failed because the control process exited with error code." >&2
		echo "See \"systemctl status $unit\" and \"journalctl -xeu $unit\" for details." >&2
		exit 1
	fi ;;
esac
`
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog, calls
}

func TestSystemdJobs(t *testing.T) {
	units := map[string]string{
		"nginx.service":   "LoadState=loaded\nActiveState=active\n",
		"haproxy.service": "LoadState=loaded\nActiveState=reloading\n",
		"app.service":     "LoadState=loaded\nActiveState=inactive\n",
		"queued.service":  "LoadState=loaded\nActiveState=activating\n",
		"broken.service":  "LoadState=bad-setting\nActiveState=inactive\n",
		"gone.service":    "LoadState=masked\nActiveState=inactive\n",
	}
	tests := []struct {
		verb, unit string
		failVerb   string
		wantErr    string // "" for success
		wantCalls  []string
	}{
		{verb: "reload", unit: "nginx.service", wantCalls: []string{
			"show --property=LoadState,ActiveState -- nginx.service",
			"reload --no-ask-password -- nginx.service"}},
		{verb: "restart", unit: "haproxy.service", wantCalls: []string{
			"show --property=LoadState,ActiveState -- haproxy.service",
			"restart --no-ask-password -- haproxy.service"}},
		// Not running, or starting (at boot, queued behind ec2boot): left
		// alone, it reads the file when it starts.
		{verb: "reload", unit: "app.service", wantCalls: []string{"show --property=LoadState,ActiveState -- app.service"}},
		{verb: "restart", unit: "queued.service", wantCalls: []string{"show --property=LoadState,ActiveState -- queued.service"}},
		{verb: "reload", unit: "typo.service", wantErr: "reload typo.service: no such unit",
			wantCalls: []string{"show --property=LoadState,ActiveState -- typo.service"}},
		{verb: "restart", unit: "broken.service", wantErr: "restart broken.service: unit is bad-setting",
			wantCalls: []string{"show --property=LoadState,ActiveState -- broken.service"}},
		{verb: "reload", unit: "gone.service", wantErr: "reload gone.service: unit is masked",
			wantCalls: []string{"show --property=LoadState,ActiveState -- gone.service"}},
		{verb: "reload", unit: "nginx.service", failVerb: "reload",
			wantErr: `reload nginx.service: systemctl reload: exit status 1: Job for nginx.service failed because the control process exited with error code. | See "systemctl status nginx.service" and "journalctl -xeu nginx.service" for details.`,
			wantCalls: []string{
				"show --property=LoadState,ActiveState -- nginx.service",
				"reload --no-ask-password -- nginx.service"}},
	}
	for _, tt := range tests {
		t.Run(tt.verb+" "+tt.unit, func(t *testing.T) {
			prog, calls := fakeSystemctl(t, units)
			if tt.failVerb != "" {
				if err := os.WriteFile(filepath.Join(filepath.Dir(prog), "fail-"+tt.failVerb), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := &Systemd{Systemctl: prog, Timeout: 10 * time.Second}
			do := s.Reload
			if tt.verb == "restart" {
				do = s.Restart
			}
			err := do(context.Background(), tt.unit)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("error:\n got %q\nwant %q", gotErr, tt.wantErr)
			}
			b, _ := os.ReadFile(calls)
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if diff := cmp.Diff(tt.wantCalls, got); diff != "" {
				t.Errorf("systemctl calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSystemdHangingJobTimesOut(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "systemctl")
	script := "#!/bin/sh\nif [ \"$1\" = show ]; then printf 'LoadState=loaded\nActiveState=active\n'; exit 0; fi\nexec sleep 30\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Systemd{Systemctl: prog, Timeout: 200 * time.Millisecond}
	err := s.Restart(context.Background(), "app.service")
	if err == nil || err.Error() != "restart app.service: systemctl restart: no answer within 200ms" {
		t.Fatalf("err = %v", err)
	}
}
