// Package interrupt turns SIGTERM and SIGINT into the cancellation of a
// run's context. systemd stops a unit with SIGTERM (shutdown, `systemctl
// stop`, TimeoutStartSec); an operator presses Ctrl-C. The first signal asks
// the run to stop at the next safe point: a file being written is finished,
// nothing new is started. A second signal means "now": the process exits at
// once, leaving at worst a staged temporary file that the next run removes.
package interrupt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
)

// Signals are the signals that interrupt a run.
var Signals = []os.Signal{syscall.SIGTERM, os.Interrupt}

// ErrInterrupted is the cause of a context cancelled by a signal.
var ErrInterrupted = errors.New("interrupted")

// Context returns a copy of parent that is cancelled, with a cause wrapping
// ErrInterrupted and naming the signal, on the first SIGTERM or SIGINT. On
// a second one it calls exit (os.Exit with the interrupted exit code, in
// the binary). stop restores the default handling; call it when the run is
// over.
func Context(parent context.Context, log zerolog.Logger, exit func()) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, Signals...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			log.Warn().Str("signal", sig.String()).Msg("interrupted: finishing the file being written, starting nothing new; a second signal stops at once")
			cancel(fmt.Errorf("%w by %s", ErrInterrupted, sig))
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			log.Error().Str("signal", sig.String()).Msg("second signal: stopping now")
			exit()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// Cancelled reports whether ctx was cancelled (by a signal or by the
// caller) as opposed to having run out of time: a budget that ran out is a
// failure of whatever took too long, a cancellation is nobody's failure.
func Cancelled(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}
