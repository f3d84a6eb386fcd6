package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRelocateValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"defaults", "", nil},
		{"good reopen", `[relocate]
open_files = "restart"
[[relocate.reopen]]
process = "nginx"
signal = "SIGUSR1"
[[relocate.reopen]]
process = "app"
command = ["systemctl", "restart", "app"]
`, nil},
		{"bad reopen", `[relocate]
[[relocate.reopen]]
process = "a-process-name-too-long"
signal = "KILL"
[[relocate.reopen]]
process = "x"
[[relocate.reopen]]
process = "y"
signal = "HUP"
command = ["true"]
[[relocate.reopen]]
process = "z"
command = [""]
`, []string{
			"user-data:3:1: relocate.reopen[0].process: must be a process name of 1 to 15 characters as in /proc/PID/comm, got \"a-process-name-too-long\"",
			"user-data:4:1: relocate.reopen[0].signal: \"KILL\" is not one of HUP, USR1, USR2, TERM, INT, QUIT",
			"user-data:5:3: relocate.reopen[1]: set exactly one of signal and command",
			"user-data:7:3: relocate.reopen[2]: set exactly one of signal and command",
			"user-data:13:1: relocate.reopen[3].command: the program name is empty",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Load(Source{Name: "user-data", Data: []byte(tt.src)})
			if d := cmp.Diff(tt.want, problemStrings(ps)); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}
