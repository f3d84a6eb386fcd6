// Package template is Go's text/template executor (Go 1.26.8: exec.go,
// funcs.go, option.go, template.go; see LICENSE) with one change: a name in
// a template is a struct field or a map key, never a method call.
//
// Why: text/template looks methods up with reflect.Value.MethodByName.
// A reachable call to it makes the Go linker keep every exported method of
// every type in the program, because any of them might be called by name;
// in ec2boot that is about 1.3 MB of a binary whose goal is under 8 MiB.
// ec2boot's template data (render.Data) has no methods, so templates lose
// nothing; "{{ .X.Method }}" fails with "can't evaluate field Method".
//
// The parser is the standard library's text/template/parse, unchanged; the
// syntax, the built-in functions and the error texts are text/template's.
// ParseFiles, ParseGlob and ParseFS are left out: ec2boot reads template
// sources itself.
//
// To update: copy the four files from a new Go release's src/text/template,
// then re-apply the change marked "ec2boot:" in exec.go.
package template
