package render

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
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

// text/template's messages: `template: NAME:LINE:COL: executing "NAME" at
// <.Vars.x>: map has no entry for key "x"` and `template: NAME:LINE: msg`.
var (
	execErr  = regexp.MustCompile(`^template: (.*?):(\d+):(\d+): executing "[^"]*" at (<.*?>): (.*)$`)
	parseErr = regexp.MustCompile(`^template: (.*?):(\d+): (.*)$`)
	anyLoc   = regexp.MustCompile(`^template: (.*?):(\d+):(\d+): (.*)$`)
)

// locate rewrites a template error into "SOURCE:LINE:COL: message".
func locate(source string, err error) error {
	msg := err.Error()
	if m := execErr.FindStringSubmatch(msg); m != nil && m[1] == source {
		return &Error{Source: source, Line: atoi(m[2]), Col: atoi(m[3]), Msg: m[4] + ": " + m[5]}
	}
	if m := anyLoc.FindStringSubmatch(msg); m != nil && m[1] == source {
		return &Error{Source: source, Line: atoi(m[2]), Col: atoi(m[3]), Msg: m[4]}
	}
	if m := parseErr.FindStringSubmatch(msg); m != nil && m[1] == source {
		return &Error{Source: source, Line: atoi(m[2]), Msg: m[3]}
	}
	return &Error{Source: source, Msg: strings.TrimPrefix(msg, "template: ")}
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

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // the regexps only match digits
	return n
}
