// Package logging sets up the one logger ec2boot uses: journald with
// priorities when systemd started us, a readable console on a terminal, and
// JSON lines otherwise.
package logging

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// Format names an output format for --log-format.
type Format string

// The formats --log-format accepts.
const (
	Auto    Format = "auto"
	Console Format = "console"
	JSON    Format = "json"
	Journal Format = "journal"
)

// ParseFormat checks a --log-format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Auto, Console, JSON, Journal:
		return f, nil
	}
	return "", fmt.Errorf("unknown log format %q (want auto, console, json or journal)", s)
}

// New returns a logger writing to w (normally os.Stderr) in the given format.
// Auto picks journald when stderr is connected to the journal
// (JOURNAL_STREAM names its device and inode), console on a terminal, JSON
// otherwise. verbose enables debug messages.
func New(w io.Writer, format Format, verbose bool) zerolog.Logger {
	if format == Auto {
		format = detect(w)
	}
	level := zerolog.InfoLevel
	if verbose {
		level = zerolog.DebugLevel
	}
	var out io.Writer
	switch format {
	case Journal:
		if journal.Enabled() {
			out = oneLine{journalWriter{send: journal.Send}}
		} else {
			out = w // no journal socket: fall back to JSON on stderr
		}
	case Console:
		out = oneLine{zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}}
	default:
		out = w
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// Discard is a logger that writes nothing, for tests and library defaults.
func Discard() zerolog.Logger { return zerolog.Nop() }

func detect(w io.Writer) Format {
	if underJournal(w) {
		return Journal
	}
	if isTerminal(w) {
		return Console
	}
	return JSON
}

// underJournal follows systemd's documented check: JOURNAL_STREAM holds
// "device:inode" of the stream stderr is connected to.
func underJournal(w io.Writer) bool {
	v := os.Getenv("JOURNAL_STREAM")
	f, ok := w.(*os.File)
	if v == "" || !ok {
		return false
	}
	dev, ino, ok := strings.Cut(v, ":")
	if !ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	d, err1 := strconv.ParseUint(dev, 10, 64)
	i, err2 := strconv.ParseUint(ino, 10, 64)
	return err1 == nil && err2 == nil && d == uint64(st.Dev) && i == st.Ino
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
