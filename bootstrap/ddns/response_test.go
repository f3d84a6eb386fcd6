package ddns

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAndAssign(t *testing.T) {
	type o struct {
		Code  string
		Class Class
		Scope Scope
		Echo  string
	}
	tests := []struct {
		name     string
		body     string
		n        int
		want     []o
		warnings int
	}{
		{"one good", "good 192.0.2.1", 1, []o{{"good", Success, HostScope, "192.0.2.1"}}, 0},
		{"crlf and blank lines", "good 192.0.2.1\r\n\r\nnochg 192.0.2.1\r\n", 2,
			[]o{{"good", Success, HostScope, "192.0.2.1"}, {"nochg", Success, HostScope, "192.0.2.1"}}, 0},
		{"dual stack echo", "good 192.0.2.1,2001:db8::1", 1, []o{{"good", Success, HostScope, "192.0.2.1,2001:db8::1"}}, 0},
		{"account line for all", "badauth", 3, []o{
			{"badauth", Sticky, AccountScope, ""}, {"badauth", Sticky, AccountScope, ""}, {"badauth", Sticky, AccountScope, ""}}, 0},
		{"system line for all", "911", 2, []o{{"911", HoldOff, AccountScope, ""}, {"911", HoldOff, AccountScope, ""}}, 0},
		{"one good for two, tolerated with a warning", "good", 2, []o{{"good", Success, HostScope, ""}, {"good", Success, HostScope, ""}}, 1},
		{"mixed, ddclient's vector", "good\nnochg\ndnserr", 3, []o{
			{"good", Success, HostScope, ""}, {"nochg", Success, HostScope, ""}, {"dnserr", HoldOff, AccountScope, ""}}, 0},
		{"missing line", "good\nnohost", 3, []o{
			{"good", Success, HostScope, ""}, {"nohost", Sticky, HostScope, ""}, {"no reply", Failed, HostScope, ""}}, 0},
		{"excess line", "good\ngood\ngood", 2, []o{{"good", Success, HostScope, ""}, {"good", Success, HostScope, ""}}, 1},
		{"unknown is never success", "OK", 1, []o{{"OK", Failed, HostScope, ""}}, 0},
		{"substring is not a code", "nohostgood", 1, []o{{"nohostgood", Failed, HostScope, ""}}, 0},
		{"case", "GOOD 192.0.2.1\n!Donator", 2, []o{{"good", Success, HostScope, "192.0.2.1"}, {"!donator", Sticky, AccountScope, ""}}, 0},
		{"empty", "", 2, []o{{"no reply", Failed, HostScope, ""}, {"no reply", Failed, HostScope, ""}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, warns := Assign(ParseResponse([]byte(tt.body)), tt.n)
			var got []o
			for _, x := range outs {
				got = append(got, o{x.Code, x.Class, x.Scope, x.Echo})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if len(warns) != tt.warnings {
				t.Errorf("warnings = %q, want %d", warns, tt.warnings)
			}
		})
	}
}

func TestPrintableKeepsLogLinesSafe(t *testing.T) {
	got := printable("bad\x1b[31mred\xff" + strings.Repeat("x", 100))
	if strings.ContainsAny(got, "\x1b\xff") || len([]rune(got)) > 84 || !strings.HasSuffix(got, "...") {
		t.Errorf("printable = %q", got)
	}
}

// FuzzParseResponse: any reply body, for any number of names, gives exactly
// one outcome per name, never panics, and never turns a word that is not
// good or nochg into success.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"good 192.0.2.1", "good\r\nnochg\r\n", "badauth", "911", "good\nnochg\ndnserr",
		"<html>", "", "\n\n\n", "nochg 2001:db8::1,192.0.2.1", "w5m", "!donator\n!yours"} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, body []byte, n8 uint8) {
		n := int(n8 % 25)
		lines := ParseResponse(body)
		if len(lines) > maxLines {
			t.Fatalf("%d lines", len(lines))
		}
		outs, _ := Assign(lines, n)
		if len(outs) != n {
			t.Fatalf("%d outcomes for %d names", len(outs), n)
		}
		for _, o := range outs {
			if o.Class == Success && o.Code != "good" && o.Code != "nochg" {
				t.Fatalf("%q taken as success", o.Code)
			}
			if o.Code == "" && n > 0 {
				t.Fatalf("empty code from %q", body)
			}
			if strings.ContainsAny(o.Code+o.Echo+o.Detail, "\n\r\x00") {
				t.Fatalf("control characters in %+v", o)
			}
		}
	})
}
