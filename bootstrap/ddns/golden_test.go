package ddns

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// TestPlanGolden: one plan with every kind of line: a repair, a refresh, a
// sticky error, a hold-off, an unreadable password file and an unknown
// address.
func TestPlanGolden(t *testing.T) {
	h := newHarness(t)
	h.facts.IPv6 = netip.Addr{}
	h.writeSecret("hold.secret", testPassword)
	h.records = twoRecords + `
[[dns.records]]
name = "ds.example.test"
address = "public-ipv4+ipv6"
account = "main"

[dns.accounts.nokey]
server = "https://members.dyndns.org"
username = "u"
password_file = "/etc/ec2boot/missing.secret"

[[dns.records]]
name = "nokey.example.test"
address = "public-ipv4"
account = "nokey"

[dns.accounts.held]
server = "URL"
username = "testuser"
password_file = "/etc/ec2boot/hold.secret"

[[dns.records]]
name = "held.example.test"
address = "local-ipv4"
account = "held"

[[dns.records]]
name = "gone.example.test"
address = "local-ipv4"
account = "main"
`
	h.records = strings.ReplaceAll(h.records, "URL", h.dyn.URL())
	// First run: web and int register, gone gets nohost, held gets 911.
	h.dyn.Script(dyndns.Reply{Normal: true}, dyndns.Reply{Body: "good\nnohost", Update: true}, dyndns.Reply{Body: "911"})
	h.run(false)
	h.clock.Advance(25 * 24 * time.Hour)
	h.dyn.Script(dyndns.Reply{Normal: true}, dyndns.Reply{Normal: true}, dyndns.Reply{Body: "911"})
	h.run(false)
	h.clock.Advance(time.Minute)
	if err := h.dns.Update(context.Background(), "web.example.test", []netip.Addr{otherIP}); err != nil {
		t.Fatal(err)
	}
	got := strings.NewReplacer(h.dyn.URL(), "http://127.0.0.1:PORT", string(h.root), "ROOT").Replace(h.plan())
	golden(t, "plan-mixed.golden", got)
}
