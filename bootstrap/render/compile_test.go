package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileAndRefs(t *testing.T) {
	text := `{{ range .Peers.web }}{{ .Addr }} {{ $.Vars.port }} {{ $.Peers.cache }}{{ end }}
{{ .Facts.Region }} {{ .Facts.Regoin }} {{ .Vars.missing }}
{{ with .Self }}{{ .Nope }}{{ end }}{{ index .Peers "db" }}{{ index .Vars "env" }}
{{ range role "queue" }}{{ end }}{{ .Bogus }}
{{ define "sub" }}{{ .Anything }}{{ $.Peers.gone }}{{ end }}`
	c, err := Compile("app.tmpl", text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range c.Refs([]string{"web", "db"}, map[string]any{"port": 80}) {
		got = append(got, e.Error())
	}
	want := []string{
		`app.tmpl:1:57: role "cache": no such role in peers.roles (known: web, db)`,
		`app.tmpl:2:30: no fact Regoin (see the template data in docs/peers.md)`,
		`app.tmpl:2:49: vars.missing is not set (known: port)`,
		`app.tmpl:3:75: vars.env is not set (known: port)`,
		`app.tmpl:4:15: role "queue": no such role in peers.roles (known: web, db)`,
		`app.tmpl:4:37: no field Bogus in the template data (Facts, Peers, Self, Vars)`,
		`app.tmpl:5:38: role "gone": no such role in peers.roles (known: web, db)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"a\n{{ .Nope }", "app.tmpl:2: unexpected \"}\" in operand"},
		{"{{ nosuchfunc 1 }}", `app.tmpl:1: function "nosuchfunc" not defined`},
		{"{{ if .Vars.x }}", "app.tmpl:1: unexpected EOF"},
	} {
		_, err := Compile("app.tmpl", tc.text)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Compile(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
}
