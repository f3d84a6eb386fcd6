package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGlobalFlagsBeforeOrAfterTheCommand(t *testing.T) {
	want := struct{ Root, Config, Endpoint string }{"/tmp/r", "/tmp/r.toml", "http://127.0.0.1:1"}
	for _, args := range [][]string{
		{"--root", "/tmp/r", "--config", "/tmp/r.toml", "--imds-endpoint", "http://127.0.0.1:1", "plan"},
		{"plan", "--root", "/tmp/r", "--config", "/tmp/r.toml", "--imds-endpoint", "http://127.0.0.1:1"},
		{"--root", "/tmp/r", "plan", "--config", "/tmp/r.toml", "--imds-endpoint=http://127.0.0.1:1"},
	} {
		inv, code := parse(args, &bytes.Buffer{}, &bytes.Buffer{})
		if inv == nil {
			t.Fatalf("parse(%q) refused with %d", args, code)
		}
		got := struct{ Root, Config, Endpoint string }{inv.globals.Root, inv.globals.ConfigPath, inv.globals.IMDSEndpoint}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("parse(%q) (-want +got):\n%s", args, d)
		}
	}
}

func TestDefaultsAndRelativeRoot(t *testing.T) {
	inv, _ := parse([]string{"status"}, &bytes.Buffer{}, &bytes.Buffer{})
	if inv.globals.Root != "/" || inv.globals.ConfigPath != "/etc/ec2boot/config.toml" || inv.globals.IMDSEndpoint != "" {
		t.Errorf("defaults = %+v", inv.globals)
	}
	inv, _ = parse([]string{"status", "--root", "demo/root"}, &bytes.Buffer{}, &bytes.Buffer{})
	if !strings.HasSuffix(inv.globals.Root, "/demo/root") || !strings.HasPrefix(inv.globals.Root, "/") {
		t.Errorf("relative --root not made absolute: %q", inv.globals.Root)
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if code := realMain([]string{"version"}, &stdout, &bytes.Buffer{}); code != 0 || stdout.String() != "ec2boot dev\n" {
		t.Errorf("version = %d %q", code, stdout.String())
	}
}
