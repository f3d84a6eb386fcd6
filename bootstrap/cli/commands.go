package cli

import (
	"context"
	"fmt"
	"time"
)

// The command line is described once, here, as data: cmd/ec2boot parses
// with it, the usage texts are made from it, and so can man pages and shell
// completions be. Everything a reader of the table needs is exported;
// only the functions that run the commands are not.

// Flag types: how a flag's value is read.
const (
	FlagBool     = "bool"     // a switch: --force, or --force=false
	FlagString   = "string"   // --root DIR or --root=DIR
	FlagDuration = "duration" // Go syntax: 90s, 2m, 1h30m
)

// Flag is one command-line flag.
type Flag struct {
	Name    string   // long name, without dashes: "lock-wait"
	Aliases []string // other names, without dashes: "v" for "verbose"
	Type    string   // FlagBool, FlagString or FlagDuration
	Arg     string   // the value's placeholder in usage ("DIR"); "" for a switch
	Default string   // as shown in usage; "" when there is none worth showing
	Help    string   // one line
	// Values lists the accepted values when they are a fixed set (for
	// completion): --log-format's formats.
	Values []string
}

// Example is a command line and what it does.
type Example struct {
	Command string
	Does    string
}

// Command is one verb of ec2boot.
type Command struct {
	Name     string
	Args     string // positional arguments' synopsis: "[FILE]"; "" for none
	MaxArgs  int    // how many positional arguments it takes
	Summary  string // one line, for the command list
	Help     string // paragraphs, for `ec2boot help NAME` and man pages
	Flags    []Flag // its own flags; the global flags are accepted too
	Examples []Example
	// ArgFiles: the positional arguments are file names (for completion).
	ArgFiles bool

	run func(ctx context.Context, g *Globals, v Values, args []string) int
}

// ExitCode is one exit code of ec2boot and what it means.
type ExitCode struct {
	Code    int
	Name    string // as in status's "outcome"
	Meaning string
}

// Values are the parsed flags of one command line, by long name: bool,
// string or time.Duration according to the flag's Type.
type Values map[string]any

// Bool is a switch's value; false when unset.
func (v Values) Bool(name string) bool { b, _ := v[name].(bool); return b }

// String is a string flag's value; "" when unset.
func (v Values) String(name string) string { s, _ := v[name].(string); return s }

// Duration is a duration flag's value; 0 when unset.
func (v Values) Duration(name string) time.Duration { d, _ := v[name].(time.Duration); return d }

// Run runs the command with its parsed flags and positional arguments.
func (c Command) Run(ctx context.Context, g *Globals, v Values, args []string) int {
	return c.run(ctx, g, v, args)
}

// Synopsis is the command's usage line without the program name:
// "run [--force] [--lock-wait DURATION]".
func (c Command) Synopsis() string {
	s := c.Name
	for _, f := range c.Flags {
		s += " [" + f.Usage() + "]"
	}
	if c.Args != "" {
		s += " " + c.Args
	}
	return s
}

// Usage is the flag as written on a command line: "--lock-wait DURATION".
func (f Flag) Usage() string {
	if f.Arg == "" {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + f.Arg
}

// GlobalFlags are accepted by every command, before or after its name.
func GlobalFlags() []Flag {
	return []Flag{
		{Name: "root", Type: FlagString, Arg: "DIR", Default: "/",
			Help: "treat DIR as / for every file read or written"},
		{Name: "config", Type: FlagString, Arg: "FILE", Default: "/etc/ec2boot/config.toml",
			Help: "local TOML configuration, merged under user-data"},
		{Name: "imds-endpoint", Type: FlagString, Arg: "URL",
			Help: "instance metadata service (also AWS_EC2_METADATA_SERVICE_ENDPOINT)"},
		{Name: "log-format", Type: FlagString, Arg: "FORMAT", Default: "auto", Values: []string{"auto", "console", "json", "journal"},
			Help: "auto (journald under systemd, console on a terminal, JSON otherwise), console, json or journal"},
		{Name: "verbose", Aliases: []string{"v"}, Type: FlagBool, Help: "debug messages, with each step's duration"},
	}
}

// TopFlags are accepted only before a command: they replace it.
func TopFlags() []Flag {
	return []Flag{
		{Name: "help", Aliases: []string{"h"}, Type: FlagBool, Help: "print this help (or a command's: ec2boot help COMMAND)"},
		{Name: "version", Type: FlagBool, Help: "print the version"},
	}
}

// ExitCodes are ec2boot's exit codes, an interface: see docs/usage.md.
func ExitCodes() []ExitCode {
	return []ExitCode{
		{ExitOK, "ok", "done, or nothing needed doing"},
		{ExitUsage, "invalid", "bad configuration or usage; nothing was changed"},
		{ExitStepFailed, "failed", "a step failed; the others were applied"},
		{ExitNoMetadata, "metadata-unreachable", "instance metadata unreachable (ran on cached facts) or not on EC2"},
		{ExitDegraded, "degraded", "applied, but a guard warns (disk filling up, stale peers)"},
		{ExitLocked, "locked", "another run held the lock past --lock-wait"},
		{ExitInterrupted, "interrupted", "SIGTERM or SIGINT stopped the run at a safe point; the next run does the rest"},
	}
}

// Commands is every command, in the order usage lists them.
func Commands() []Command {
	return []Command{
		{
			Name:    "run",
			Summary: "do the boot job now (what the systemd units run)",
			Help: "Gathers the instance's facts, reads the configuration and user-data, then runs each step in\n" +
				"order: facts, instance store, dynamic DNS, DNS role records, /etc/hosts, templates, disk guard.\n" +
				"A failing step does not stop the others. A run in which nothing changed sends no request and\n" +
				"writes no file.",
			Flags: []Flag{
				{Name: "force", Type: FlagBool, Help: "send DNS updates and run template actions even when nothing changed; clear sticky provider errors"},
				{Name: "lock-wait", Type: FlagDuration, Arg: "DURATION", Default: "2m0s", Help: "how long to wait for another run to finish"},
			},
			Examples: []Example{
				{"ec2boot run", "the boot job, as the systemd units run it"},
				{"ec2boot run --force", "re-register every DNS name and re-run every action"},
			},
			run: func(ctx context.Context, g *Globals, v Values, _ []string) int {
				return Run(ctx, g, RunFlags{Force: v.Bool("force"), LockWait: v.Duration("lock-wait")})
			},
		},
		{
			Name:    "plan",
			Summary: "show every change run would make; change nothing",
			Help: "The same run in dry mode: a unified diff for every file, the exact DNS requests (passwords\n" +
				"redacted) and why, mounts and copies, actions. Changes nothing, not even state.\n" +
				"Exits 1 for a bad configuration, 2 when a step cannot even plan (it would fail), 3 when the\n" +
				"metadata service is unreachable, 0 otherwise. With --detailed-exitcode: 0 nothing to do,\n" +
				"2 changes to make, 1 any error.",
			Flags: []Flag{
				{Name: "force", Type: FlagBool, Help: "plan a forced run"},
				{Name: "detailed-exitcode", Type: FlagBool, Help: "exit 0 when there is nothing to do, 2 when there are changes, 1 on any error"},
			},
			Examples: []Example{
				{"ec2boot plan", "what the next run would change"},
				{"ec2boot plan --detailed-exitcode >/dev/null; echo $?", "0, 1 or 2, for scripts"},
			},
			run: func(ctx context.Context, g *Globals, v Values, _ []string) int {
				return Run(ctx, g, RunFlags{Force: v.Bool("force"), DryRun: true, DetailedExitCode: v.Bool("detailed-exitcode")})
			},
		},
		{
			Name:    "facts",
			Summary: "print what the instance metadata service says",
			Help: "Prints the instance's facts from the metadata service. When the service cannot be reached,\n" +
				"prints the facts the last run cached, says so, and exits 3.",
			Flags: []Flag{{Name: "json", Type: FlagBool, Help: "print JSON"}},
			Examples: []Example{
				{"ec2boot facts", "the facts as a table"},
				{"ec2boot facts --json | jq -r .instance_id", "one fact, for a script"},
			},
			run: func(ctx context.Context, g *Globals, v Values, _ []string) int { return Facts(ctx, g, v.Bool("json")) },
		},
		{
			Name:    "validate",
			Args:    "[FILE]",
			MaxArgs: 1, ArgFiles: true,
			Summary: "check a configuration file or user-data",
			Help: "Checks a configuration: a TOML file, or user-data (gzip, multipart MIME) holding one, laid\n" +
				"over the local configuration (--config) as a run would. Without FILE, the local configuration\n" +
				"merged with this instance's user-data. Every template is compiled and the roles, vars and facts\n" +
				"it uses are checked. Every problem is printed at once, as FILE:LINE:COLUMN: KEY: MESSAGE. Names\n" +
				"written as templates are made from the facts of --facts, else this instance's (or those the\n" +
				"last run cached); without facts only their syntax and fact names are checked, and it says so.",
			Flags: []Flag{{Name: "facts", Type: FlagString, Arg: "FILE", Help: "make template names from the facts in FILE (facts.json, or facts --json)"}},
			Examples: []Example{
				{"ec2boot validate user-data.toml", "check a file before launching instances with it"},
				{"ec2boot validate --facts facts.json user-data.toml", "and make its names from one instance's facts"},
				{"ec2boot validate", "check what the next run would use"},
			},
			run: func(ctx context.Context, g *Globals, v Values, args []string) int {
				file := ""
				if len(args) > 0 {
					file = args[0]
				}
				return Validate(ctx, g, file, v.String("facts"))
			},
		},
		{
			Name:    "status",
			Summary: "the last run's result and each DNS record's state",
			Help: "Shows the last run (when, outcome, each step with its duration and changes, disk usage) and\n" +
				"each DNS record's registered address, when, and any sticky error. Exits with the last run's\n" +
				"code. Any user can run it.",
			Flags: []Flag{{Name: "json", Type: FlagBool, Help: "print JSON"}},
			Examples: []Example{
				{"ec2boot status", "the last run, step by step"},
				{"ec2boot status --json | jq .last_run.outcome", "for monitoring"},
			},
			run: func(ctx context.Context, g *Globals, v Values, _ []string) int { return Status(ctx, g, v.Bool("json")) },
		},
		{
			Name:    "relocate",
			Summary: "only the instance-store step, from the cached config (no network)",
			Help: "Runs only the instance-store step, from the cached configuration and facts, without the\n" +
				"metadata service. ec2boot-early.service runs it before journald flushes to /var/log.",
			Examples: []Example{{"ec2boot relocate", "what ec2boot-early.service runs"}},
			run:      func(ctx context.Context, g *Globals, _ Values, _ []string) int { return Relocate(ctx, g) },
		},
		{
			Name:    "stop",
			Summary: "leave the DNS role records this instance publishes under",
			Help: "Removes this instance's address and member record from every DNS role record it publishes\n" +
				"under (peers.discover.ROLE.publish), from the cached configuration and facts, within\n" +
				"--timeout. ec2boot-leave.service runs it as ExecStop= at shutdown, while the network is up,\n" +
				"so that a clean leave disappears from every peer's next run. Roles found by EC2 tags have\n" +
				"nothing to remove. Exits 2 when a removal failed (the member is pruned after 24 hours).",
			Flags: []Flag{{Name: "timeout", Type: FlagDuration, Arg: "DURATION", Default: "20s", Help: "give up after this long, the lock wait included"}},
			Examples: []Example{
				{"ec2boot stop", "what ec2boot-leave.service runs at shutdown"},
				{"ec2boot --root /mnt/img stop --timeout 5s", "leave from a mounted image's state, quickly"},
			},
			run: func(ctx context.Context, g *Globals, v Values, _ []string) int {
				return Stop(ctx, g, v.Duration("timeout"))
			},
		},
		{
			Name:    "prepare-image",
			Summary: "report what would leak into an AMI; --apply cleans it",
			Help: "Reports what would be lost or leaked if this machine became an AMI (state, cached user-data,\n" +
				"credentials, data on the instance store, cloud-init's instance data). Exits 4 when it found\n" +
				"something. With --apply, clears ec2boot's own state and caches.",
			Flags: []Flag{{Name: "apply", Type: FlagBool, Help: "clean, instead of only reporting"}},
			Examples: []Example{
				{"ec2boot prepare-image", "the report, before creating an image"},
				{"ec2boot prepare-image --apply", "clear ec2boot's state, as an image build's last step"},
			},
			run: func(ctx context.Context, g *Globals, v Values, _ []string) int {
				return PrepareImage(ctx, g, v.Bool("apply"))
			},
		},
		{
			Name:     "version",
			Summary:  "print the version",
			Help:     "Prints the version (also: ec2boot --version).",
			Examples: []Example{{"ec2boot version", "ec2boot 1.2.3"}},
			run: func(_ context.Context, g *Globals, _ Values, _ []string) int {
				fmt.Fprintf(g.Stdout, "ec2boot %s\n", g.Version)
				return ExitOK
			},
		},
		{
			Name:     "help",
			Args:     "[COMMAND]",
			MaxArgs:  1,
			Summary:  "print help, or a command's help",
			Help:     "Prints the overview, or with COMMAND that command's usage, flags and examples.",
			Examples: []Example{{"ec2boot help run", "run's flags and examples"}},
			// cmd/ec2boot answers help itself: it needs no Globals.
			run: func(context.Context, *Globals, Values, []string) int { return ExitOK },
		},
	}
}

// Lookup finds a command by name.
func Lookup(name string) (Command, bool) {
	for _, c := range Commands() {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}
