package render

import (
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/peers"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testData() Data {
	f := &facts.Facts{InstanceID: "i-0123456789abcdef0", LocalIPv4: netip.MustParseAddr("10.0.0.9"), Region: "eu-west-1"}
	set := &peers.Set{
		Self: []peers.Host{{Name: "me.example.test", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.9")}, Source: peers.FromSelf}},
		Roles: map[string][]peers.Host{
			"web": {
				{Name: "web-1.example.test", Role: "web", Addrs: []netip.Addr{netip.MustParseAddr("10.0.2.1")}, Source: peers.FromDNS},
				{Name: "web-2.example.test", Role: "web", Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::22")}, Source: peers.FromStale},
			},
			"app": {
				{Name: "app-1.example.test", Role: "app", Addrs: []netip.Addr{netip.MustParseAddr("10.0.3.1"), netip.MustParseAddr("2001:db8::31")}, Source: peers.FromDNS},
			},
			"db-main": {},
		},
	}
	return NewData(f, set, map[string]any{"web_port": int64(8443), "name": "it's", "when": time.Minute, "at": time.Date(2026, 1, 2, 10, 30, 0, 0, time.UTC)})
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name, text, want, wantErr string
	}{
		{name: "facts and vars", text: "{{.Facts.InstanceID}} {{.Facts.Region}} {{.Vars.web_port}}", want: "i-0123456789abcdef0 eu-west-1 8443"},
		{name: "peers by role", text: `{{range .Peers.web}}{{.Name}}={{.Addr}} {{end}}`, want: "web-1.example.test=10.0.2.1 web-2.example.test=2001:db8::22 "},
		{name: "role func", text: `{{join "," (addrs (role "app"))}}`, want: "10.0.3.1,2001:db8::31"},
		{name: "names", text: `{{join " " (names (role "web"))}}`, want: "web-1.example.test web-2.example.test"},
		{name: "hostPort v6", text: `{{range role "web"}}{{hostPort .Addr 80}} {{end}}`, want: "10.0.2.1:80 [2001:db8::22]:80 "},
		{name: "default for a missing var", text: `{{default 8080 (index .Vars "nope")}}`, want: "8080"},
		{name: "shellQuote", text: `{{shellQuote .Vars.name}}`, want: `'it'\''s'`},
		{name: "toJSON", text: `{{toJSON (role "app")}}`, want: `[{"name":"app-1.example.test","role":"app","addr":"10.0.3.1","ipv4":"10.0.3.1","ipv6":"2001:db8::31","addrs":["10.0.3.1","2001:db8::31"],"stale":false}]`},
		{name: "stale flag", text: `{{range role "web"}}{{.Stale}} {{end}}`, want: "false true "},
		{name: "self", text: `{{range .Self}}{{.Name}}{{end}}`, want: "me.example.test"},
		{name: "empty role guard", text: `{{with role "db-main"}}has{{else}}none{{end}}`, want: "none"},
		{name: "missing var", text: "a\nport {{ .Vars.db_host }}", wantErr: `app.conf.tmpl:2:13: <.Vars.db_host>: map has no entry for key "db_host"`},
		{name: "missing role", text: "{{ .Peers.nosuch }}", wantErr: `app.conf.tmpl:1:9: <.Peers.nosuch>: map has no entry for key "nosuch"`},
		{name: "unknown role func", text: "\n\n  {{ role \"cache\" }}", wantErr: `app.conf.tmpl:3:5: <role "cache">: error calling role: no peer role "cache" in the configuration`},
		{name: "syntax error", text: "ok\n{{ if }}", wantErr: `app.conf.tmpl:2: missing value for if`},
		{name: "unknown function", text: "{{ env \"HOME\" }}", wantErr: `app.conf.tmpl:1: function "env" not defined`},
		{name: "index out of range", text: "x\n{{ index (role \"web\") 5 }}", wantErr: `app.conf.tmpl:2:3: <index (role "web") 5>: error calling index: index out of range: 5`},
		{name: "required", text: `{{ required "vars.token must be set" (index .Vars "token") }}`, wantErr: `error calling required: required: vars.token must be set`},
		{name: "bad port", text: `{{ hostPort "h" "http" }}`, wantErr: `hostPort: bad port "http"`},
		// A TOML value's methods are callable, as in any text/template.
		{name: "method call", text: "{{ .Vars.when.String }}", want: "1m0s"},
		{name: "method with argument", text: `{{ (.Vars.at.Add .Vars.when).Format "15:04" }}`, want: "10:31"},
		{name: "fields still found", text: "{{ .Facts.Region }}/{{ (index .Peers.web 0).Name }}", want: "eu-west-1/web-1.example.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Execute(context.Background(), "app.conf.tmpl", tc.text, testData(), Limits{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "app.conf.tmpl:") {
					t.Errorf("error not located in the source: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, string(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestShippedTemplates renders the examples in templates/ against fixed
// data and compares with testdata/render/*.golden.
func TestShippedTemplates(t *testing.T) {
	srcs, _ := filepath.Glob("../../templates/*.tmpl")
	if len(srcs) < 4 {
		t.Fatalf("expected the four shipped templates, found %v", srcs)
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".tmpl")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			d := testData()
			d.Peers["app"] = append(d.Peers["app"], d.Peers["web"]...)
			got, err := Execute(context.Background(), filepath.Base(src), string(text), d, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("../../testdata/render", name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				os.WriteFile(golden, got, 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("run with -update: %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if strings.HasSuffix(name, ".json") && !json.Valid(got) {
				t.Errorf("not valid JSON:\n%s", got)
			}
		})
	}
}

// FuzzTemplateData feeds arbitrary peer names, addresses and variables
// through the shipped templates: rendering never panics, and the JSON
// example always yields valid JSON whatever the data holds.
func FuzzTemplateData(f *testing.F) {
	f.Add("web-1.example.test", []byte{10, 0, 0, 1}, `{"web_port": 80}`)
	f.Add("we\"ird\n", []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, `{"name": "x'y", "web_port": "80"}`)
	f.Add("", []byte{}, `null`)
	text, err := os.ReadFile("../../templates/peers.json.tmpl")
	if err != nil {
		f.Fatal(err)
	}
	others, _ := filepath.Glob("../../templates/*.tmpl")
	f.Fuzz(func(t *testing.T, name string, ip []byte, varsJSON string) {
		var vars map[string]any
		_ = json.Unmarshal([]byte(varsJSON), &vars)
		var addrs []netip.Addr
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a)
		}
		set := &peers.Set{Roles: map[string][]peers.Host{
			"web": {{Name: name, Role: "web", Addrs: addrs}},
			"app": {{Name: name, Role: "app", Addrs: addrs}},
		}}
		d := NewData(&facts.Facts{InstanceID: name}, set, vars)
		out, err := Execute(context.Background(), "peers.json.tmpl", string(text), d, Limits{})
		if err != nil {
			t.Fatalf("JSON template failed: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON:\n%s", out)
		}
		for _, src := range others {
			b, _ := os.ReadFile(src)
			_, _ = Execute(context.Background(), src, string(b), d, Limits{}) // errors are fine (bad port); panics are not
		}
	})
}
