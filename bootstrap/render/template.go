package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// Limits bound one template's execution; a zero field takes the config's
// default.
type Limits struct {
	Timeout time.Duration
	MaxSize int64
}

// Execute renders tmpl (named by its source path, for errors) with d.
// Missing map keys are errors, never "<no value>", and every error reads
// "SOURCE:LINE:COL: what".
//
// The output is held to lim.MaxSize while it is written, and the wait for it
// to lim.Timeout and to ctx. text/template cannot be interrupted, so the
// execution runs in its own goroutine and Execute stops waiting for it: an
// abandoned execution that writes again fails at once, and one that never
// writes ({{range 100000000000}}{{end}}) spins on until the process exits.
// ec2boot is a oneshot that exits after its run, so that is soon.
func Execute(ctx context.Context, source, text string, d Data, lim Limits) ([]byte, error) {
	if lim.Timeout <= 0 {
		lim.Timeout = config.DefaultRenderTimeout
	}
	if lim.MaxSize <= 0 {
		lim.MaxSize = int64(config.DefaultMaxSize)
	}
	t, err := template.New(source).Option("missingkey=error").Funcs(funcs(d)).Parse(text)
	if err != nil {
		return nil, locate(source, err)
	}
	w := &cappedWriter{max: lim.MaxSize}
	done := make(chan error, 1) // buffered: an abandoned execution never blocks
	go func() { done <- t.Execute(w, d) }()
	timer := time.NewTimer(lim.Timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if errors.Is(err, errTooLarge) {
			return nil, &Error{Source: source, Msg: fmt.Sprintf("output larger than max_size (%s)", config.Size(lim.MaxSize))}
		}
		if err != nil {
			return nil, locate(source, err)
		}
		return w.buf.Bytes(), nil
	case <-timer.C:
		w.abandon()
		return nil, &Error{Source: source, Msg: fmt.Sprintf("rendering took longer than render_timeout (%s)", lim.Timeout)}
	case <-ctx.Done():
		w.abandon()
		return nil, &Error{Source: source, Msg: fmt.Sprintf("rendering stopped: %v", context.Cause(ctx))}
	}
}

var (
	errTooLarge  = errors.New("template output too large")
	errAbandoned = errors.New("template execution abandoned")
)

// cappedWriter buffers a template's output and fails the write that would
// take it past max, so a runaway template stops at the cap instead of
// filling memory. Once abandoned, every write fails.
type cappedWriter struct {
	buf       bytes.Buffer
	max       int64
	abandoned atomic.Bool
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.abandoned.Load() {
		return 0, errAbandoned
	}
	if int64(w.buf.Len())+int64(len(p)) > w.max {
		return 0, errTooLarge
	}
	return w.buf.Write(p)
}

func (w *cappedWriter) abandon() { w.abandoned.Store(true) }

// locate rewrites a template error into "SOURCE:LINE:COL: message".
// text/template's messages are `template: NAME:LINE:COL: executing "NAME"
// at <.Vars.x>: map has no entry for key "x"` and `template: NAME:LINE:
// msg`; NAME is source for every template ec2boot parses, so only that
// prefix is looked for. A message spanning lines is left whole.
func locate(source string, err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: "+source+":")
	if !ok || strings.Contains(rest, "\n") {
		return &Error{Source: source, Msg: strings.TrimPrefix(msg, "template: ")}
	}
	line, rest := cutNumber(rest)
	if line == 0 {
		return &Error{Source: source, Msg: strings.TrimPrefix(msg, "template: ")}
	}
	if after, ok := strings.CutPrefix(rest, ":"); ok {
		if col, text := cutNumber(after); col > 0 {
			if text, ok := strings.CutPrefix(text, ": "); ok {
				return &Error{Source: source, Line: line, Col: col, Msg: withoutExecuting(text)}
			}
		}
	}
	if text, ok := strings.CutPrefix(rest, ": "); ok {
		return &Error{Source: source, Line: line, Msg: text}
	}
	return &Error{Source: source, Msg: strings.TrimPrefix(msg, "template: ")}
}

// withoutExecuting drops the `executing "NAME" at ` of an execution error,
// which names the template a second time, keeping the failing action:
// `<.Vars.x>: map has no entry for key "x"`.
func withoutExecuting(text string) string {
	rest, ok := strings.CutPrefix(text, `executing "`)
	if !ok {
		return text
	}
	if _, action, ok := strings.Cut(rest, `" at <`); ok {
		if end := strings.Index(action, ">: "); end >= 0 {
			return "<" + action[:end+1] + ": " + action[end+3:]
		}
	}
	return text
}

// cutNumber splits s after its leading decimal digits; n is 0 when there
// are none (or too many to be a line number).
func cutNumber(s string) (n int, rest string) {
	i := 0
	for i < len(s) && i < 9 && '0' <= s[i] && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:]
}

// Error is a template problem located in its source file.
type Error struct {
	Source    string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.Source, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Source, e.Msg)
}
