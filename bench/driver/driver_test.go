package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// diffTrees counts new and rewritten files once each, /run apart, and
// nothing for an unchanged tree.
func TestDiffTrees(t *testing.T) {
	root := t.TempDir()
	write := func(p, body string) {
		t.Helper()
		if err := writeFile(filepath.Join(root, p), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/hosts", "127.0.0.1 localhost\n")
	write("etc/keep", "same\n")
	before := snapshot(root)
	if w := diffTrees(before, snapshot(root)); w.Files != 0 || w.Bytes != 0 || w.RunFiles != 0 {
		t.Fatalf("unchanged tree: %+v", w)
	}
	time.Sleep(10 * time.Millisecond) // a new ctime
	write("etc/hosts.new", "127.0.0.1 localhost\n10.0.0.1 a\n")
	if err := os.Rename(filepath.Join(root, "etc/hosts.new"), filepath.Join(root, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	write("var/lib/state.json", "{}")
	write("run/ec2boot/status.json", "{\"x\":1}")
	if err := os.Link(filepath.Join(root, "var/lib/state.json"), filepath.Join(root, "var/lib/again.json")); err != nil {
		t.Fatal(err)
	}
	w := diffTrees(before, snapshot(root))
	got := struct{ Files, Bytes, RunFiles, RunBytes int64 }{w.Files, w.Bytes, w.RunFiles, w.RunBytes}
	want := struct{ Files, Bytes, RunFiles, RunBytes int64 }{2, int64(len("127.0.0.1 localhost\n10.0.0.1 a\n") + 2), 1, 7}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
}

func TestPkgGroup(t *testing.T) {
	tests := map[string]string{
		"crypto/tls.(*Conn).Handshake":                                 "crypto/* (TLS, x509, ciphers)",
		"vendor/golang.org/x/crypto/chacha20poly1305.seal":             "crypto/* (TLS, x509, ciphers)",
		"net/http.(*Transport).RoundTrip":                              "net/http",
		"net.(*Dialer).DialContext":                                    "net, net/netip",
		"net/netip.ParseAddr":                                          "net, net/netip",
		"github.com/miekg/dns.(*Msg).Pack":                             "github.com/miekg/dns",
		"google.golang.org/protobuf/internal/impl.(*MessageInfo).init": "google.golang.org/protobuf",
		"go.yaml.in/yaml/v3.(*parser).parse":                           "go.yaml.in/yaml/v3",
		"github.com/ec2boot/ec2boot/bootstrap/ddns.(*Plan).Apply":      "ec2boot's own packages",
		"type:*net/http.Request":                                       "type descriptors (type:*)",
		"go:func.*":                                                    "Go metadata (go:*: func info, strings)",
		"encoding/json.Marshal":                                        "encoding/*",
		"fmt.Sprintf":                                                  "fmt",
		"runtime.mallocgc":                                             "runtime",
		"text/template.(*state).evalField":                             "text/template, reflect",
	}
	for sym, want := range tests {
		if got := pkgGroup(sym); got != want {
			t.Errorf("pkgGroup(%q) = %q, want %q", sym, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []int64
		want int64
	}{{nil, 0}, {[]int64{3}, 3}, {[]int64{5, 1, 3}, 3}, {[]int64{4, 1, 3, 2}, 2}}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
