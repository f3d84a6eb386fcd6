package names

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// Template is one parsed name template.
type Template struct {
	text string
	tmpl *template.Template
	// facts are the fields of Data it names at its top level; tags are the
	// tag keys it names (.Tags.Name, tag "k", index .Tags "k").
	facts, tags []string
}

// Error is a name that could not be made: Missing names the fact that is
// absent ("tag Name", "LocalIPv4"), or Result holds a name that is not a
// valid DNS name.
type Error struct {
	Template string
	Missing  string
	Result   string
	Reason   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("template %q: %s", e.Template, e.Reason)
}

// funcs are the helpers a name template may call: few, hermetic, and the
// same names as the render step's helpers of the same meaning.
func funcs(d Data) template.FuncMap {
	return template.FuncMap{
		// tag reaches a tag whose key is not a Go identifier; Expand has
		// checked that every key named this way is there.
		"tag":        func(key string) string { return d.Tags[key] },
		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"replace":    replace,
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
	}
}

// Parse checks a name template's syntax and the facts it names, without
// any facts at hand: an unknown field is an error here, a missing tag only
// in Expand.
func Parse(text string) (*Template, error) {
	t, err := template.New("name").Option("missingkey=error").Funcs(funcs(Data{})).Parse(text)
	if err != nil {
		return nil, &Error{Template: text, Reason: "syntax: " + cleanParseError(err)}
	}
	nt := &Template{text: text, tmpl: t}
	w := walker{facts: map[string]bool{}, tags: map[string]bool{}}
	for _, sub := range t.Templates() {
		if sub.Name() != "name" {
			return nil, &Error{Template: text, Reason: "define, block and template are not allowed in a name"}
		}
	}
	if t.Tree != nil && t.Tree.Root != nil {
		if err := w.node(t.Tree.Root, true); err != nil {
			return nil, &Error{Template: text, Reason: err.Error()}
		}
	}
	nt.facts, nt.tags = sortedKeys(w.facts), sortedKeys(w.tags)
	return nt, nil
}

// Text is the template as written.
func (t *Template) Text() string { return t.text }

// Tags lists the tag keys the template names.
func (t *Template) Tags() []string { return t.tags }

// Expand makes the name for d and checks it. Every fact the template names
// must be present: an empty one is an Error naming it, never an empty
// label in a name.
func (t *Template) Expand(d Data) (string, error) {
	for _, k := range t.tags {
		if _, ok := d.Tags[k]; ok {
			continue
		}
		e := &Error{Template: t.text, Missing: "tag " + k}
		if !d.TagsAvailable {
			e.Reason = fmt.Sprintf("needs the tag %q, but the instance metadata service serves no tags: enable instance metadata tags in the launch template (InstanceMetadataTags=enabled)", k)
		} else {
			e.Reason = fmt.Sprintf("needs the tag %q, which this instance does not have (its tags: %s)", k, tagList(d.Tags))
		}
		return "", e
	}
	v := reflect.ValueOf(d)
	for _, f := range t.facts {
		if f == "Tags" {
			continue
		}
		if s, _ := v.FieldByName(f).Interface().(string); s == "" {
			return "", &Error{Template: t.text, Missing: f, Reason: fmt.Sprintf("needs %s, which this instance does not have", f)}
		}
	}
	// tag reads d: a copy of the template with the helpers bound to it,
	// so that Expand is safe to call from several goroutines.
	tmpl, err := t.tmpl.Clone()
	if err != nil {
		return "", &Error{Template: t.text, Reason: err.Error()}
	}
	b := &capped{}
	if err := tmpl.Funcs(funcs(d)).Execute(b, d); err != nil {
		if errors.Is(err, errTooLong) {
			return "", &Error{Template: t.text, Result: clip(b.String()), Reason: fmt.Sprintf("expands to more than %d characters", maxOutput)}
		}
		return "", &Error{Template: t.text, Reason: cleanExecError(err)}
	}
	out := b.String()
	if err := CheckHostname(out); err != nil {
		return "", &Error{Template: t.text, Result: out, Reason: fmt.Sprintf("expands to %q, which %v", clip(out), err)}
	}
	return out, nil
}

// replace is strings.ReplaceAll that refuses to grow past maxOutput:
// nested, it could otherwise multiply a name's length at every level.
func replace(old, new, s string) (string, error) {
	n := strings.Count(s, old)
	if len(new) > len(old) && len(s)+n*(len(new)-len(old)) > maxOutput {
		return "", errTooLong
	}
	return strings.ReplaceAll(s, old, new), nil
}

// maxOutput bounds what a template may write: a loop in a name must not
// fill the memory.
const maxOutput = 1024

var errTooLong = errors.New("name too long")

// capped is a strings.Builder that refuses to grow past maxOutput.
type capped struct{ strings.Builder }

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > maxOutput {
		return 0, errTooLong
	}
	return c.Builder.Write(p)
}

func tagList(tags map[string]string) string {
	if len(tags) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// walker collects the facts and tags a template names and refuses fields
// Data does not have.
type walker struct {
	facts, tags map[string]bool
}

// node walks n; top is false inside with and range, where "." is no
// longer Data and fields are left for the executor to check.
func (w *walker) node(n parse.Node, top bool) error {
	switch n := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := w.node(c, top); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return w.pipe(n.Pipe, top)
	case *parse.IfNode:
		return w.branch(&n.BranchNode, top, top)
	case *parse.WithNode:
		return w.branch(&n.BranchNode, top, false)
	case *parse.RangeNode:
		// A name has no use for a loop, and a loop that writes nothing
		// (range over a large number) would never end.
		return errors.New("range is not allowed in a name")
	case *parse.TemplateNode:
		return errors.New("define, block and template are not allowed in a name")
	}
	return nil
}

func (w *walker) branch(b *parse.BranchNode, top, inner bool) error {
	if err := w.pipe(b.Pipe, top); err != nil {
		return err
	}
	if err := w.node(b.List, inner); err != nil {
		return err
	}
	return w.node(b.ElseList, top)
}

func (w *walker) pipe(p *parse.PipeNode, top bool) error {
	if p == nil {
		return nil
	}
	for _, c := range p.Cmds {
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && id.Ident == "printf" {
			// A width ("%099999999d") makes any size before the output
			// cap can see it.
			return errors.New("printf is not allowed in a name (print joins values)")
		}
		if len(c.Args) >= 2 {
			if id, ok := c.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "tag" || id.Ident == "index") {
				if err := w.tagCall(id.Ident, c.Args[1:]); err != nil {
					return err
				}
			}
		}
		for _, a := range c.Args {
			if err := w.arg(a, top); err != nil {
				return err
			}
		}
	}
	return nil
}

// tagCall records the key of tag "k" and index .Tags "k".
func (w *walker) tagCall(fn string, args []parse.Node) error {
	if fn == "tag" {
		if len(args) != 1 {
			return errors.New(`tag takes one key: {{ tag "aws:autoscaling:groupName" }}`)
		}
		s, ok := args[0].(*parse.StringNode)
		if !ok {
			return errors.New(`tag takes a quoted key: {{ tag "aws:autoscaling:groupName" }}`)
		}
		w.tags[s.Text] = true
		return nil
	}
	if f, ok := args[0].(*parse.FieldNode); ok && len(f.Ident) == 1 && f.Ident[0] == "Tags" && len(args) == 2 {
		if s, ok := args[1].(*parse.StringNode); ok {
			w.tags[s.Text] = true
		}
	}
	return nil
}

func (w *walker) arg(a parse.Node, top bool) error {
	switch a := a.(type) {
	case *parse.FieldNode:
		if top {
			return w.field(a.Ident)
		}
	case *parse.VariableNode:
		if len(a.Ident) > 1 && a.Ident[0] == "$" {
			return w.field(a.Ident[1:])
		}
	case *parse.ChainNode:
		return w.arg(a.Node, top)
	case *parse.PipeNode:
		return w.pipe(a, top)
	}
	return nil
}

// field checks a chain of field names from Data.
func (w *walker) field(ident []string) error {
	name := ident[0]
	if !slices.Contains(Fields(), name) {
		return fmt.Errorf("unknown fact .%s (known: .%s)", name, strings.Join(Fields(), ", ."))
	}
	w.facts[name] = true
	switch {
	case name == "Tags" && len(ident) == 2:
		w.tags[ident[1]] = true
	case name == "Tags" && len(ident) > 2, name != "Tags" && len(ident) > 1:
		return fmt.Errorf(".%s has no field %s", strings.Join(ident[:len(ident)-1], "."), ident[len(ident)-1])
	}
	return nil
}

// cleanParseError drops the parser's "template: name:1:" prefix: the
// message names the template itself.
func cleanParseError(err error) string {
	s := err.Error()
	if _, rest, ok := strings.Cut(s, "template: name:"); ok {
		if _, msg, ok := strings.Cut(rest, ": "); ok {
			return msg
		}
	}
	return s
}

func cleanExecError(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s, "template: ") {
		return s[i+2:]
	}
	return s
}
