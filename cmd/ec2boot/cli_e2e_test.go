package main

import (
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

// TestCommandLineConventions runs the real binary: help and version on
// stdout with exit 0, usage errors as one plain line on stderr with exit 1
// (also when the logs are JSON), misspellings answered with the nearest
// real name, flags written with two dashes.
func TestCommandLineConventions(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // the whole of stderr, trimmed
	}{
		{"version flag", []string{"--version"}, 0, "ec2boot dev\n", ""},
		{"version verb", []string{"version"}, 0, "ec2boot dev\n", ""},
		{"help flag", []string{"--help"}, 0, "Exit codes:", ""},
		{"short help", []string{"-h"}, 0, "Commands:", ""},
		{"help verb", []string{"help"}, 0, "Global flags", ""},
		{"help for a verb", []string{"help", "plan"}, 0, "--detailed-exitcode", ""},
		{"verb --help", []string{"run", "--help"}, 0, "Usage: ec2boot run [--force] [--lock-wait DURATION]", ""},
		{"verb --help has examples", []string{"status", "--help"}, 0, "Examples:\n  ec2boot status\n", ""},
		{"no command", nil, 1, "", "ec2boot: no command given; run 'ec2boot --help' for the list"},
		{"misspelt verb", []string{"rnu"}, 1, "", `ec2boot: unknown command "rnu"; did you mean "run"? ('ec2boot --help' lists the commands)`},
		{"far-off verb", []string{"frobnicate"}, 1, "", `ec2boot: unknown command "frobnicate" ('ec2boot --help' lists the commands)`},
		{"help for a misspelt verb", []string{"help", "stauts"}, 1, "", `ec2boot help: unknown command "stauts"; did you mean "status"?`},
		{"misspelt flag", []string{"run", "--forse"}, 1, "", "ec2boot run: unknown flag --forse; did you mean --force?"},
		{"misspelt global flag, JSON logs", []string{"--log-format", "json", "status", "--rot", "/x"}, 1, "", "ec2boot status: unknown flag --rot; did you mean --root?"},
		{"single-dash flag is named with two", []string{"plan", "-bogus"}, 1, "", "ec2boot plan: unknown flag --bogus"},
		{"flag of another verb", []string{"status", "--force"}, 1, "", "ec2boot status: unknown flag --force"},
		{"missing value", []string{"run", "--lock-wait"}, 1, "", "ec2boot run: --lock-wait needs a value (--lock-wait DURATION)"},
		{"bad duration", []string{"run", "--lock-wait=10"}, 1, "", `ec2boot run: --lock-wait: "10" is not a duration (write e.g. 90s, 2m or 1h30m)`},
		{"extra argument, JSON logs", []string{"status", "--log-format=json", "now"}, 1, "", `ec2boot status: unexpected argument "now" (usage: ec2boot status [--json])`},
		{"bad endpoint, JSON logs", []string{"plan", "--log-format=json", "--root", "/nonexistent", "--imds-endpoint", "ftp://127.0.0.1:1"}, 1, "",
			`ec2boot plan: IMDS endpoint "ftp://127.0.0.1:1": want an http:// or https:// URL`},
		{"endpoint mode from the environment, JSON logs", []string{"facts", "--log-format", "json", "--root", "/nonexistent"}, 1, "",
			`ec2boot facts: IMDS endpoint mode "IPv7": want IPv4 or IPv6`},
		{"bad log format", []string{"plan", "--log-format", "xml"}, 1, "", `ec2boot plan: --log-format: unknown log format "xml" (want auto, console, json or journal)`},
	}
	env := map[string][]string{
		"endpoint mode from the environment, JSON logs": {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ec2bootEnv(t, env[tt.name], tt.args...)
			if r.code != tt.code {
				t.Errorf("ec2boot %q exited %d, want %d\nstdout: %s\nstderr: %s", tt.args, r.code, tt.code, r.stdout, r.stderr)
			}
			if (tt.stdout == "") != (r.stdout == "") || !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("ec2boot %q stdout = %q, want it to contain %q", tt.args, r.stdout, tt.stdout)
			}
			if got := strings.TrimSpace(r.stderr); got != tt.stderr {
				t.Errorf("ec2boot %q stderr = %q, want %q", tt.args, got, tt.stderr)
			}
		})
	}
}

// Every command of the table has its help, and the overview lists it.
func TestEveryCommandHasHelp(t *testing.T) {
	top := ec2boot(t, "--help")
	for _, c := range cli.Commands() {
		if !strings.Contains(top.stdout, "\n  "+c.Name+" ") {
			t.Errorf("--help does not list %s", c.Name)
		}
		r := ec2boot(t, "help", c.Name)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: ec2boot "+c.Name) || r.stderr != "" {
			t.Errorf("help %s: exit %d\n%s%s", c.Name, r.code, r.stdout, r.stderr)
		}
		for _, f := range c.Flags {
			if !strings.Contains(r.stdout, "--"+f.Name) {
				t.Errorf("help %s does not show --%s", c.Name, f.Name)
			}
		}
	}
}
