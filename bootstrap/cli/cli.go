// Package cli implements ec2boot's commands on top of the bootstrap
// packages. cmd/ec2boot parses the command line and calls these.
package cli

import (
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/run"
)

// Exit codes, as documented in docs/usage.md.
const (
	ExitOK         = run.ExitOK
	ExitUsage      = run.ExitInvalid
	ExitStepFailed = run.ExitStepFailed
	ExitNoMetadata = run.ExitNoMetadata
	ExitDegraded   = run.ExitDegraded
	ExitLocked     = run.ExitLocked
	// ExitInterrupted: SIGTERM or SIGINT stopped a run (see run).
	ExitInterrupted = run.ExitInterrupted
)

// Globals are the flags and environment every command sees.
type Globals struct {
	Root       string
	ConfigPath string
	// ConfigExplicit is set when --config was given: the file must exist.
	ConfigExplicit bool
	IMDSEndpoint   string
	// LookupEnv reads the process environment (the AWS SDK's IMDS variables).
	LookupEnv func(string) (string, bool)
	Stdout    io.Writer
	// Stderr receives usage errors, as plain lines whatever the log
	// format; nil sends them to Log.
	Stderr  io.Writer
	Log     zerolog.Logger
	Version string
	// Clock defaults to the real one.
	Clock clock.Clock
	// Exit ends the process on a second interrupting signal; default
	// os.Exit.
	Exit func(code int)
}

func (g *Globals) root() hostfs.Root { return hostfs.Root(g.Root) }

// local is the local configuration file as the flags name it.
func (g *Globals) local() config.Local {
	return config.Local{Path: g.root().Path(g.ConfigPath), Name: g.ConfigPath, Required: g.ConfigExplicit}
}

func (g *Globals) clock() clock.Clock {
	if g.Clock == nil {
		return clock.Real{}
	}
	return g.Clock
}

// usageError reports a bad flag or environment variable found past parsing
// (an endpoint that is not a URL, say) the way the parser reports its own:
// one plain line on stderr, for the person who typed it, and exit 1.
func (g *Globals) usageError(cmd string, err error) int {
	if g.Stderr == nil {
		g.Log.Error().Msg(err.Error())
		return ExitUsage
	}
	fmt.Fprintf(g.Stderr, "ec2boot %s: %v\n", cmd, err)
	return ExitUsage
}
