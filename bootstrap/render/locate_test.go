package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocate(t *testing.T) {
	const src = "/etc/ec2boot/app.conf.tmpl"
	tests := []struct {
		msg  string
		want Error
	}{
		{msg: `template: ` + src + `:2:13: executing "` + src + `" at <.Vars.db_host>: map has no entry for key "db_host"`,
			want: Error{Line: 2, Col: 13, Msg: `<.Vars.db_host>: map has no entry for key "db_host"`}},
		// An action holding ">: " itself: the first one ends it, as text/template writes no other.
		{msg: `template: ` + src + `:1:3: executing "` + src + `" at <index .Vars "a>: b">: error calling index: x`,
			want: Error{Line: 1, Col: 3, Msg: `<index .Vars "a>: b">: error calling index: x`}},
		{msg: `template: ` + src + `:4:1: unexpected "}" in operand`,
			want: Error{Line: 4, Col: 1, Msg: `unexpected "}" in operand`}},
		{msg: `template: ` + src + `:2: missing value for if`,
			want: Error{Line: 2, Msg: `missing value for if`}},
		{msg: `template: ` + src + `:2:1: executing "other" without at`,
			want: Error{Line: 2, Col: 1, Msg: `executing "other" without at`}},
		// Not ours, or not located: kept whole, without the "template: " prefix.
		{msg: `template: other.tmpl:2: missing value for if`, want: Error{Msg: `other.tmpl:2: missing value for if`}},
		{msg: `template: ` + src + `: incomplete`, want: Error{Msg: src + `: incomplete`}},
		{msg: `template: ` + src + `:x: odd`, want: Error{Msg: src + `:x: odd`}},
		{msg: `template: ` + src + `:12345678901: odd`, want: Error{Msg: src + `:12345678901: odd`}},
		{msg: `template: ` + src + `:3: two` + "\n" + `lines`, want: Error{Msg: src + ":3: two\nlines"}},
		{msg: `write error: disk full`, want: Error{Msg: `write error: disk full`}},
	}
	for _, tt := range tests {
		got := locate(src, errors.New(tt.msg))
		var e *Error
		if !errors.As(got, &e) {
			t.Fatalf("%q: %T, want *Error", tt.msg, got)
		}
		tt.want.Source = src
		if diff := cmp.Diff(&tt.want, e); diff != "" {
			t.Errorf("locate(%q) (-want +got):\n%s", tt.msg, diff)
		}
	}
}

// FuzzLocate: any message gives an error that names the source first and
// keeps the message's text.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{
		`template: a.tmpl:2:13: executing "a.tmpl" at <.Vars.x>: map has no entry for key "x"`,
		`template: a.tmpl:2: missing value for if`, `template: a.tmpl:`, "", "template: a.tmpl:9999999999:1: x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := locate("a.tmpl", errors.New(msg)).Error()
		if !strings.HasPrefix(got, "a.tmpl:") {
			t.Fatalf("locate(%q) = %q, does not start with the source", msg, got)
		}
		if last := msg[strings.LastIndex(msg, ": ")+1:]; !strings.HasSuffix(got, last) {
			t.Fatalf("locate(%q) = %q, lost the end of the message %q", msg, got, last)
		}
	})
}
