// Command ec2boot is the boot-time agent for EC2 instances: it registers the
// instance's names with dynamic DNS, keeps /etc/hosts and application config
// in step with its peers, and moves logs and temp dirs to the instance store.
//
// This file only parses the command line; the work is in bootstrap/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
)

// version is stamped by the Makefile: -ldflags "-X main.version=...".
var version = "dev"

const usage = `ec2boot configures an EC2 instance at boot: dynamic DNS names, /etc/hosts and
application config for its peers, logs and temp dirs on the instance store.

Usage:
  ec2boot [global flags] <command> [flags]

Commands:
  run                 do the boot job now (what the systemd units run)
  plan                show every change run would make; change nothing
  facts [--json]      print what the instance metadata service says
  validate [FILE]     check a configuration file or user-data (default: the
                      local config merged with this instance's user-data)
  status [--json]     the last run's result and each DNS record's state
  relocate            only the instance-store step, from the cached config
                      (the early boot unit runs this; no network needed)
  prepare-image       report what would leak into an AMI; --apply cleans it
  version             print the version

Global flags:
  --root DIR            treat DIR as / for every file read or written (default /)
  --config FILE         local TOML config, merged under user-data
                        (default /etc/ec2boot/config.toml)
  --imds-endpoint URL   instance metadata service; also AWS_EC2_METADATA_SERVICE_ENDPOINT,
                        AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, AWS_EC2_METADATA_DISABLED,
                        AWS_EC2_METADATA_V1_DISABLED
  --log-format FORMAT   auto, console, json or journal (default auto: journald under
                        systemd, console on a terminal, JSON otherwise)
  -v, --verbose         debug messages

Exit codes:
  0  done            1  bad config or usage, nothing changed
  2  a step failed, the others were applied
  3  instance metadata unreachable (ran on cached facts) or not on EC2
  4  degraded: applied, but a guard warns (disk filling up, stale peers)
  5  another run holds the lock

Run 'ec2boot <command> --help' for a command's flags. Documentation: docs/ in the
source tree, or /usr/share/doc/ec2boot.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	inv, code := parse(args, stdout, stderr)
	if inv == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return inv.run(ctx, inv.globals, inv.args)
}

// invocation is a parsed command line, ready to run.
type invocation struct {
	name    string
	globals *cli.Globals
	args    []string
	run     func(ctx context.Context, g *cli.Globals, args []string) int
}

// parse reads the global flags (before or after the command) and the
// command's own; it returns nil and the exit code when there is nothing to
// run (help, or a usage error already reported on stderr).
func parse(args []string, stdout, stderr io.Writer) (*invocation, int) {
	g := &cli.Globals{LookupEnv: os.LookupEnv, Stdout: stdout, Version: version,
		Root: "/", ConfigPath: "/etc/ec2boot/config.toml"}
	logFormat, verbose := "auto", false
	top := flag.NewFlagSet("ec2boot", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(stderr, usage) }
	registerGlobals(top, g, &logFormat, &verbose)
	if err := top.Parse(args); err != nil {
		return nil, helpOrUsage(err)
	}
	if top.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return nil, cli.ExitUsage
	}
	name, rest := top.Arg(0), top.Args()[1:]
	if name == "help" {
		fmt.Fprint(stdout, usage)
		return nil, cli.ExitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "ec2boot: unknown command %q\n\n%s", name, usage)
		return nil, cli.ExitUsage
	}
	fs := flag.NewFlagSet("ec2boot "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	registerGlobals(fs, g, &logFormat, &verbose)
	run := cmd.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ec2boot %s %s\n\n%s\n\nFlags (global flags are accepted too):\n", name, cmd.args, cmd.help)
		fs.VisitAll(func(f *flag.Flag) {
			if !isGlobal(f.Name) {
				fmt.Fprintf(stderr, "  --%-14s %s\n", f.Name, f.Usage)
			}
		})
	}
	if err := fs.Parse(rest); err != nil {
		return nil, helpOrUsage(err)
	}
	format, err := logging.ParseFormat(logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "ec2boot: --log-format: %v\n", err)
		return nil, cli.ExitUsage
	}
	if !filepath.IsAbs(g.Root) {
		abs, err := filepath.Abs(g.Root)
		if err != nil {
			fmt.Fprintf(stderr, "ec2boot: --root: %v\n", err)
			return nil, cli.ExitUsage
		}
		g.Root = abs
	}
	g.Log = logging.New(stderr, format, verbose)
	return &invocation{name: name, globals: g, args: fs.Args(), run: run}, cli.ExitOK
}

func registerGlobals(fs *flag.FlagSet, g *cli.Globals, logFormat *string, verbose *bool) {
	fs.StringVar(&g.Root, "root", g.Root, "treat `DIR` as / for every file read or written")
	fs.StringVar(&g.ConfigPath, "config", g.ConfigPath, "local TOML config `FILE`, merged under user-data")
	fs.StringVar(&g.IMDSEndpoint, "imds-endpoint", g.IMDSEndpoint, "instance metadata service `URL`")
	fs.StringVar(logFormat, "log-format", *logFormat, "auto, console, json or journal")
	fs.BoolVar(verbose, "v", *verbose, "debug messages")
	fs.BoolVar(verbose, "verbose", *verbose, "debug messages")
}

func isGlobal(name string) bool {
	switch name {
	case "root", "config", "imds-endpoint", "log-format", "v", "verbose":
		return true
	}
	return false
}

func helpOrUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	return cli.ExitUsage
}

// command binds a subcommand's flags and returns the function that runs it.
type command struct {
	args  string
	help  string
	flags func(fs *flag.FlagSet) func(ctx context.Context, g *cli.Globals, args []string) int
}

var commands = map[string]command{
	"run": {"[--force]", "Do the boot job: facts, instance store, DNS, /etc/hosts, templates, disk guard.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			force := fs.Bool("force", false, "send DNS updates and run actions even when nothing changed; clears sticky provider errors")
			wait := fs.Duration("lock-wait", 2*time.Minute, "how long to wait for another run to finish")
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				return noArgs(g, args, func() int { return cli.Run(ctx, g, cli.RunFlags{Force: *force, LockWait: *wait}) })
			}
		}},
	"plan": {"[--force]", "Show every change run would make (file diffs, DNS requests with secrets redacted,\nmounts, actions) and change nothing. Exits 0 unless the config is invalid.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			force := fs.Bool("force", false, "plan a forced run")
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				return noArgs(g, args, func() int { return cli.Run(ctx, g, cli.RunFlags{Force: *force, DryRun: true}) })
			}
		}},
	"facts": {"[--json]", "Print the instance's facts from the metadata service.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				return noArgs(g, args, func() int { return cli.Facts(ctx, g, *asJSON) })
			}
		}},
	"validate": {"[FILE]", "Check a configuration: a TOML file, or user-data (gzip, multipart MIME) holding one.\nWithout FILE, the local config merged with this instance's user-data.\nEvery problem is printed at once as FILE:LINE:COLUMN: KEY: MESSAGE.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				if len(args) > 1 {
					g.Log.Error().Msg("validate takes at most one FILE")
					return cli.ExitUsage
				}
				return cli.Validate(ctx, g, strings.Join(args, ""))
			}
		}},
	"status": {"[--json]", "Show the last run's result and each DNS record's state.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				return noArgs(g, args, func() int { return cli.Status(ctx, g, *asJSON) })
			}
		}},
	"relocate": {"", "Run only the instance-store step, from the cached config and facts, without the\nmetadata service. ec2boot-early.service runs this before journald flushes.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				return noArgs(g, args, func() int { return cli.Relocate(ctx, g) })
			}
		}},
	"prepare-image": {"[--apply]", "Report what would be lost or leaked if this machine became an AMI (state,\ncached user-data, credentials, data on the instance store, cloud-init's instance\ndata). With --apply, clear ec2boot's own state and caches.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			apply := fs.Bool("apply", false, "clean, instead of only reporting")
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				return noArgs(g, args, func() int { return cli.PrepareImage(ctx, g, *apply) })
			}
		}},
	"version": {"", "Print the version.",
		func(fs *flag.FlagSet) func(context.Context, *cli.Globals, []string) int {
			return func(ctx context.Context, g *cli.Globals, args []string) int {
				fmt.Fprintf(g.Stdout, "ec2boot %s\n", g.Version)
				return cli.ExitOK
			}
		}},
}

func noArgs(g *cli.Globals, args []string, f func() int) int {
	if len(args) > 0 {
		g.Log.Error().Msgf("unexpected argument %q", args[0])
		return cli.ExitUsage
	}
	return f()
}
