package render

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// Compiled is a parsed template, ready to be checked.
type Compiled struct {
	source string
	text   string
	trees  []*parse.Tree
}

// Compile parses a template exactly as Execute does, with the same helper
// functions, without running it: `ec2boot validate` reports syntax errors
// and unknown functions this way before any instance renders the file.
func Compile(source, text string) (*Compiled, error) {
	t, err := template.New(source).Option("missingkey=error").Funcs(funcs(Data{})).Parse(text)
	if err != nil {
		return nil, locate(source, err)
	}
	c := &Compiled{source: source, text: text}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			c.trees = append(c.trees, tt.Tree)
		}
	}
	slices.SortFunc(c.trees, func(a, b *parse.Tree) int { return strings.Compare(a.ParseName+a.Name, b.ParseName+b.Name) })
	return c, nil
}

// Refs checks what the template refers to against the configuration: the
// roles in .Peers.ROLE, $.Peers.ROLE, index .Peers "ROLE" and role "ROLE",
// the keys in .Vars.KEY and index .Vars "KEY", the fields of .Facts and of
// the data itself. A reference the data would not have is an error at
// render time (missing keys are errors), so it is one here, located in the
// template. Only references made from the top-level data are checked:
// inside range and with, "." is something else, and $ is followed instead.
// Map values reached deeper (.Vars.a.b) are not checked.
func (c *Compiled) Refs(roles []string, vars map[string]any) []*Error {
	w := refWalker{c: c, roles: roles, vars: vars}
	for _, t := range c.trees {
		// A {{define}}d template may be called with any data: only its
		// $-rooted references are known to be the top level.
		w.node(t.Root, t.Name == c.source)
	}
	return w.errs
}

type refWalker struct {
	c     *Compiled
	roles []string
	vars  map[string]any
	errs  []*Error
}

// node walks n; top says whether "." is the template's data there.
func (w *refWalker) node(n parse.Node, top bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, x := range n.Nodes {
			w.node(x, top)
		}
	case *parse.ActionNode:
		w.pipe(n.Pipe, top)
	case *parse.IfNode:
		w.branch(&n.BranchNode, top, top)
	case *parse.RangeNode:
		w.branch(&n.BranchNode, top, false)
	case *parse.WithNode:
		w.branch(&n.BranchNode, top, false)
	case *parse.TemplateNode:
		w.pipe(n.Pipe, top)
	}
}

// branch walks an if, range or with; body says whether "." is still the
// template's data inside its first list (range and with rebind it, the
// else list keeps the outer one).
func (w *refWalker) branch(b *parse.BranchNode, top, body bool) {
	w.pipe(b.Pipe, top)
	w.node(b.List, body)
	w.node(b.ElseList, top)
}

func (w *refWalker) pipe(p *parse.PipeNode, top bool) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		w.command(cmd, top)
	}
}

func (w *refWalker) command(cmd *parse.CommandNode, top bool) {
	if len(cmd.Args) >= 3 {
		if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" {
			if path, ok := w.dataPath(cmd.Args[1], top); ok && len(path) == 1 {
				if key, ok := cmd.Args[2].(*parse.StringNode); ok {
					w.check(cmd.Args[2].Position(), append(path, key.Text))
				}
			}
		}
	}
	if len(cmd.Args) == 2 {
		if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "role" {
			if s, ok := cmd.Args[1].(*parse.StringNode); ok && !slices.Contains(w.roles, s.Text) {
				w.errorf(s.Position(), "role %q: no such role in peers.roles%s", s.Text, known(w.roles))
			}
		}
	}
	for _, a := range cmd.Args {
		switch a := a.(type) {
		case *parse.PipeNode:
			w.pipe(a, top)
		default:
			if path, ok := w.dataPath(a, top); ok {
				w.check(a.Position(), path)
			}
		}
	}
}

// dataPath returns the field names of a reference rooted at the
// template's data: .A.B, or $.A.B anywhere.
func (w *refWalker) dataPath(n parse.Node, top bool) ([]string, bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		return n.Ident, top
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return n.Ident[1:], true
		}
	}
	return nil, false
}

func (w *refWalker) check(pos parse.Pos, path []string) {
	if len(path) == 0 {
		return
	}
	data := reflect.TypeOf(Data{})
	if _, ok := data.FieldByName(path[0]); !ok {
		w.errorf(pos, "no field %s in the template data (Facts, Peers, Self, Vars)", path[0])
		return
	}
	if len(path) < 2 {
		return
	}
	switch path[0] {
	case "Facts":
		if _, ok := reflect.TypeOf(FactsView{}).FieldByName(path[1]); !ok {
			w.errorf(pos, "no fact %s (see the template data in docs/peers.md)", path[1])
		}
	case "Peers":
		if !slices.Contains(w.roles, path[1]) {
			w.errorf(pos, "role %q: no such role in peers.roles%s", path[1], known(w.roles))
		}
	case "Vars":
		if _, ok := w.vars[path[1]]; !ok {
			keys := make([]string, 0, len(w.vars))
			for k := range w.vars {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			w.errorf(pos, "vars.%s is not set%s", path[1], known(keys))
		}
	}
}

func known(names []string) string {
	if len(names) == 0 {
		return " (there are none)"
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

func (w *refWalker) errorf(pos parse.Pos, format string, args ...any) {
	line, col := lineCol(w.c.text, int(pos))
	w.errs = append(w.errs, &Error{Source: w.c.source, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(text string, pos int) (line, col int) {
	if pos > len(text) {
		pos = len(text)
	}
	before := text[:pos]
	line = 1 + strings.Count(before, "\n")
	col = pos - strings.LastIndexByte(before, '\n')
	return line, col
}
