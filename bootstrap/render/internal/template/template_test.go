package template

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	stdtemplate "text/template"

	"github.com/google/go-cmp/cmp"
)

// data has no methods, like ec2boot's template data: for it this executor
// must behave exactly as text/template's.
type peer struct {
	Name  string
	Addrs []string
	Port  int
	Stale bool
	Tags  map[string]string
	Next  *peer
}

func testData() map[string]any {
	db := &peer{Name: "db-1", Addrs: []string{"10.0.0.1", "2001:db8::1"}, Port: 5432, Tags: map[string]string{"az": "a"}}
	return map[string]any{
		"Peers": map[string][]*peer{
			"db":  {db},
			"web": {{Name: "web-1", Addrs: []string{"10.0.1.1"}, Port: 80, Stale: true, Next: db}, {Name: "web-2", Port: 8080}},
		},
		"Vars":  map[string]any{"n": int64(3), "s": "it's", "list": []any{"a", int64(2), true}, "nested": map[string]any{"k": "v"}},
		"Empty": []string{},
	}
}

func funcs() map[string]any {
	return map[string]any{
		"upper": strings.ToUpper,
		"fail":  func() (string, error) { return "", errors.New("failed on purpose") },
	}
}

// run executes text with both engines and returns what each gives.
func run(text string, data any) (ours, theirs string) {
	result := func(out *bytes.Buffer, err error) string {
		if err != nil {
			return "error: " + err.Error()
		}
		return out.String()
	}
	var a, b bytes.Buffer
	t1, err1 := New("t").Option("missingkey=error").Funcs(funcs()).Parse(text)
	if err1 == nil {
		err1 = t1.Execute(&a, data)
	}
	t2, err2 := stdtemplate.New("t").Option("missingkey=error").Funcs(funcs()).Parse(text)
	if err2 == nil {
		err2 = t2.Execute(&b, data)
	}
	return result(&a, err1), result(&b, err2)
}

var corpus = []string{
	`{{range $role, $ps := .Peers}}{{$role}}:{{range $ps}} {{.Name}}={{index .Addrs 0 | printf "%q"}}{{end}};{{end}}`,
	`{{with index .Peers "web"}}{{len .}} {{(index . 0).Next.Name}} {{(index . 1).Next.Name}}{{end}}`,
	`{{range .Peers.db}}{{.Tags.az}} {{.Port}} {{.Stale}}{{end}}`,
	`{{range $i, $v := .Vars.list}}{{$i}}={{$v}} {{end}}{{.Vars.nested.k}}`,
	`{{if and .Vars.n (gt .Vars.n 2)}}big{{else}}small{{end}} {{eq .Vars.s "it's"}} {{ne 1 2}} {{le 1 1}}`,
	`{{range .Empty}}x{{else}}none{{end}} {{len .Empty}} {{slice .Vars.s 1 3}} {{html "<a>"}} {{js "'"}} {{urlquery "a b"}}`,
	`{{define "p"}}[{{.Name}}]{{end}}{{range .Peers.web}}{{template "p" .}}{{end}}{{block "b" .Vars}}{{.s}}{{end}}`,
	`{{$x := 1}}{{range .Peers.web}}{{$x = .Port}}{{end}}{{$x}} {{print 1 "a" 2}} {{println "x"}}{{upper "up"}}`,
	`{{range $i, $e := .Peers.web}}{{if eq $i 1}}{{break}}{{end}}{{$e.Name}}{{end}} {{not true}} {{or 0 "" "z"}}`,
	`{{call .Vars.nofunc}}`,
	`{{.Vars.missing}}`,
	`{{.Peers.web.Name}}`,
	`{{(index .Peers.web 1).Next.Name}}`,
	`{{index .Vars.list 7}}`,
	`{{fail}}`,
	`{{.Vars.s.Len}}`,
	`{{template "nope"}}`,
	`{{if}}`,
	`{{range .Vars.n}}{{.}}{{end}}`,
	`{{printf "%d %s" .Vars.n}}`,
}

func TestSameAsTextTemplate(t *testing.T) {
	for _, text := range corpus {
		ours, theirs := run(text, testData())
		if diff := cmp.Diff(theirs, ours); diff != "" {
			t.Errorf("%s (-text/template +ours):\n%s", text, diff)
		}
	}
}

// TestNoMethodCalls is the one intended difference: a method is not found
// by name.
func TestNoMethodCalls(t *testing.T) {
	data := map[string]any{"b": &bytes.Buffer{}}
	ours, theirs := run(`{{.b.Len}}`, data)
	if theirs != "0" {
		t.Fatalf("text/template: %q, want the method's result", theirs)
	}
	want := `error: template: t:1:4: executing "t" at <.b.Len>: can't evaluate field Len in type interface {}`
	if ours != want {
		t.Errorf("ours: %q\nwant: %q", ours, want)
	}
}

// FuzzSameAsTextTemplate: any template text over method-free data renders
// (or fails) exactly as with text/template.
func FuzzSameAsTextTemplate(f *testing.F) {
	for _, text := range corpus {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "call") {
			t.Skip("call runs arbitrary functions of the data; covered by the corpus")
		}
		ours, theirs := run(text, testData())
		if ours != theirs {
			t.Fatalf("%q:\n text/template: %q\n ours:          %q", text, theirs, ours)
		}
	})
}
