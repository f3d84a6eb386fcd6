// Command ec2boot is the boot-time agent for EC2 instances: it registers the
// instance's names with dynamic DNS, keeps /etc/hosts and application config
// in step with its peers, and moves logs and temp dirs to the instance store.
//
// This file only parses the command line; the work is in bootstrap/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
)

// version is stamped by the Makefile: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	inv, code := parse(args, stdout, stderr)
	if inv == nil {
		return code
	}
	// run and relocate handle SIGTERM and SIGINT themselves (bootstrap/cli);
	// the read-only commands keep the default: a signal ends them.
	return inv.cmd.Run(context.Background(), inv.globals, inv.flags, inv.args)
}

// invocation is a parsed command line, ready to run.
type invocation struct {
	name    string
	cmd     cli.Command
	globals *cli.Globals
	flags   cli.Values
	args    []string
}

// parse reads the command line against bootstrap/cli's command table. It
// returns nil and the exit code when there is nothing to run: help and
// --version (on stdout, exit 0), or a usage error (one plain line on
// stderr, whatever the log format, exit 1).
func parse(args []string, stdout, stderr io.Writer) (*invocation, int) {
	p, err := cli.Parse(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, cli.ExitUsage
	}
	switch {
	case p.Version:
		fmt.Fprintf(stdout, "ec2boot %s\n", version)
		return nil, cli.ExitOK
	case p.Help && p.HelpFor == "":
		fmt.Fprint(stdout, cli.TopUsage())
		return nil, cli.ExitOK
	case p.Help:
		c, _ := cli.Lookup(p.HelpFor)
		fmt.Fprint(stdout, cli.CommandUsage(c))
		return nil, cli.ExitOK
	}
	name := p.Command.Name
	format, err := logging.ParseFormat(p.Globals.String("log-format"))
	if err != nil {
		fmt.Fprintf(stderr, "ec2boot %s: --log-format: %v\n", name, err)
		return nil, cli.ExitUsage
	}
	g := &cli.Globals{LookupEnv: os.LookupEnv, Stdout: stdout, Stderr: stderr, Version: version,
		Root: p.Globals.String("root"), ConfigPath: p.Globals.String("config"), IMDSEndpoint: p.Globals.String("imds-endpoint"),
		ConfigExplicit: p.GlobalsGiven["config"]}
	if !filepath.IsAbs(g.Root) {
		abs, err := filepath.Abs(g.Root)
		if err != nil {
			fmt.Fprintf(stderr, "ec2boot %s: --root: %v\n", name, err)
			return nil, cli.ExitUsage
		}
		g.Root = abs
	}
	g.Log = logging.New(stderr, format, p.Globals.Bool("verbose"))
	return &invocation{name: name, cmd: p.Command, globals: g, flags: p.Flags, args: p.Args}, cli.ExitOK
}
