package render

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
)

// Execute renders tmpl (named by its source path, for errors) with d.
// Missing map keys are errors, never "<no value>", and every error reads
// "SOURCE:LINE:COL: what".
func Execute(source, text string, d Data) ([]byte, error) {
	t, err := template.New(source).Option("missingkey=error").Funcs(funcs(d)).Parse(text)
	if err != nil {
		return nil, locate(source, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return nil, locate(source, err)
	}
	return buf.Bytes(), nil
}

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
