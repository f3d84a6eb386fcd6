package member

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValueRoundTrip(t *testing.T) {
	m := Member{Role: "web", InstanceID: "i-0abc", Addr: netip.MustParseAddr("10.0.3.1"),
		Refreshed: time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)}
	if got, want := m.Value(), "ec2boot role=web instance=i-0abc addr=10.0.3.1 refreshed=2026-12-07T04:00:00Z"; got != want {
		t.Fatalf("Value() = %q, want %q", got, want)
	}
	back, ok := Parse(m.Value())
	if !ok {
		t.Fatal("Parse of a written value failed")
	}
	if d := cmp.Diff(m, back, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, v := range []string{
		"", "v=spf1 -all", "heritage=ec2boot,ec2boot/instance-id=i-1",
		"ec2boot role=web instance=i-1 addr=nope refreshed=2026-12-07T04:00:00Z",
		"ec2boot role=web instance=i-1 addr=10.0.0.1 refreshed=yesterday",
		"ec2boot role=web addr=10.0.0.1 refreshed=2026-12-07T04:00:00Z",
		"ec2boot role=web instance=i-1 addr=10.0.0.1 refreshed=2026-12-07T04:00:00Z junk",
	} {
		if m, ok := Parse(v); ok {
			t.Errorf("Parse(%q) = %+v, want not ours", v, m)
		}
	}
}

func TestTXTName(t *testing.T) {
	if got := TXTName("Web.Roles.Example.com."); got != "_ec2boot-members.web.roles.example.com." {
		t.Errorf("TXTName = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ec2boot role=web instance=i-0abc addr=10.0.3.1 refreshed=2026-12-07T04:00:00Z")
	f.Add("ec2boot role=web instance=i-0abc addr=2001:db8::1 refreshed=2026-12-07T04:00:00Z")
	f.Fuzz(func(t *testing.T, v string) {
		m, ok := Parse(v)
		if !ok {
			return
		}
		again, ok := Parse(m.Value())
		if !ok || again.InstanceID != m.InstanceID || again.Addr != m.Addr || !again.Refreshed.Equal(m.Refreshed) {
			t.Fatalf("%q parsed to %+v, which does not survive its own Value()", v, m)
		}
	})
}
