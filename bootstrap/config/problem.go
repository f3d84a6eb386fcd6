package config

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/humanize"
	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// Severity of a Problem.
type Severity int

// Problems are errors (the config is refused) or warnings (it is used).
const (
	Error Severity = iota
	Warning
)

// Problem is one finding about a configuration, located as precisely as the
// source allows: "user-data:12:3: dns.records[1].account: unknown account".
type Problem struct {
	Severity Severity
	Source   string // "user-data", or the local file's path
	Line     int    // 1-based; 0 when unknown
	Column   int
	Key      string // dotted key path, e.g. dns.records[1].name
	Message  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(humanize.OneLine(p.Source))
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
			if p.Column > 0 {
				fmt.Fprintf(&b, ":%d", p.Column)
			}
		}
		b.WriteString(": ")
	}
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	if p.Key != "" {
		// A key is whatever the TOML says, quoted keys included: one
		// holding a newline must not start a line of its own.
		b.WriteString(humanize.OneLine(p.Key))
		b.WriteString(": ")
	}
	b.WriteString(humanize.OneLine(p.Message))
	return b.String()
}

// Problems is every finding of a load; it is an error when any is an Error.
type Problems []Problem

// Errors returns only the errors.
func (ps Problems) Errors() Problems { return ps.filter(Error) }

// Warnings returns only the warnings.
func (ps Problems) Warnings() Problems { return ps.filter(Warning) }

func (ps Problems) filter(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// Err returns the errors as one error value, or nil.
func (ps Problems) Err() error {
	if errs := ps.Errors(); len(errs) > 0 {
		return &InvalidError{Problems: errs}
	}
	return nil
}

// InvalidError is returned for a configuration with errors.
type InvalidError struct{ Problems Problems }

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "invalid configuration: " + lines[0]
	}
	// One line, so that a log line stays one line; validate lists them
	// one per line.
	return fmt.Sprintf("invalid configuration (%d problems): %s", len(lines), strings.Join(lines, "; "))
}

func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// validator collects semantic problems and locates them in the sources.
type validator struct {
	problems Problems
	locate   func(key string) (source string, line, col int)
}

func (v *validator) add(sev Severity, key, format string, args ...any) {
	p := Problem{Severity: sev, Key: key, Message: fmt.Sprintf(format, args...)}
	if v.locate != nil {
		p.Source, p.Line, p.Column = v.locate(key)
	}
	v.problems = append(v.problems, p)
}

func (v *validator) errorf(key, format string, args ...any) { v.add(Error, key, format, args...) }
func (v *validator) warnf(key, format string, args ...any)  { v.add(Warning, key, format, args...) }

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

func isAbs(p string) bool { return strings.HasPrefix(p, "/") }

// isUnder reports whether p is dir or inside it.
func isUnder(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// IsHostname accepts DNS names: labels of letters, digits, '-' (not at
// either end) and '_' (as in _dmarc), 63 bytes at most, 253 in all without
// the optional final dot. The facts use it too, for the metadata's names.
// The rule lives in package names, which also checks names made from
// templates.
func IsHostname(s string) bool { return names.IsHostname(s) }
