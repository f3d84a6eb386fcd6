package ddns

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	want := netip.MustParseAddr("203.0.113.10")
	old := netip.MustParseAddr("198.51.100.7")
	reg := func(addr netip.Addr, age time.Duration, code string, confirmed bool) *RecordState {
		return &RecordState{Addr: addr, Touched: now.Add(-age), Via: "update", Code: code, Confirmed: confirmed}
	}
	dnsSays := func(a ...netip.Addr) answer { return answer{addrs: a, where: "ns"} }
	one := func(st *RecordState, ans answer) []rr { return []rr{{typ: "A", want: want, state: st, dns: ans}} }
	sticky := &Block{Code: "badauth", Detail: "fix it", Since: now.Add(-time.Hour)}
	hold := &Block{Code: "911", Since: now.Add(-time.Minute), Until: now.Add(29 * time.Minute)}

	tests := []struct {
		name    string
		in      decideIn
		act     action
		reason  string // substring of the joined reasons
		verify  []string
		confirm []string
	}{
		{"in sync", decideIn{rrs: one(reg(want, time.Hour, "good", true), dnsSays(want))}, actNone, "", nil, nil},
		{"first run, DNS already right: remember, send nothing", decideIn{rrs: one(nil, dnsSays(want))}, actNone, "", []string{"A"}, nil},
		{"DNS confirms the last update", decideIn{rrs: one(reg(want, time.Hour, "good", false), dnsSays(want))}, actNone, "", nil, []string{"A"}},
		{"changed elsewhere", decideIn{rrs: one(reg(want, time.Hour, "good", true), dnsSays(old))}, actSend, "mismatch: DNS says 198.51.100.7, want 203.0.113.10", nil, nil},
		{"new address", decideIn{rrs: one(reg(old, time.Hour, "good", true), dnsSays(old))}, actSend, "mismatch", nil, nil},
		{"no record yet", decideIn{rrs: one(nil, dnsSays())}, actSend, "DNS says nothing", nil, nil},
		{"extra address in DNS", decideIn{rrs: one(nil, dnsSays(want, old))}, actSend, "DNS says 203.0.113.10,198.51.100.7", nil, nil},
		{"DNS down, state knows it", decideIn{rrs: one(reg(want, time.Hour, "good", true), answer{err: errors.New("timeout")})}, actNone, "", nil, nil},
		{"DNS down, state does not", decideIn{rrs: one(nil, answer{err: errors.New("timeout")})}, actSend, "DNS check failed (timeout)", nil, nil},
		{"refresh due", decideIn{refresh: 25 * 24 * time.Hour, rrs: one(reg(want, 25*24*time.Hour, "good", true), dnsSays(want))}, actSend, "refresh due", nil, nil},
		{"refresh not yet due", decideIn{refresh: 25 * 24 * time.Hour, rrs: one(reg(want, 24*24*time.Hour, "good", true), dnsSays(want))}, actNone, "", nil, nil},
		{"nochg DNS never confirmed: guard", decideIn{rrs: one(reg(want, time.Hour, "nochg", false), dnsSays(old))}, actGuard, "not sending again", nil, nil},
		{"nochg then confirmed, then changed elsewhere: repair", decideIn{rrs: one(reg(want, time.Hour, "nochg", true), dnsSays(old))}, actSend, "mismatch", nil, nil},
		{"forced", decideIn{force: true, accountSticky: sticky, rrs: one(reg(want, time.Hour, "good", true), dnsSays(want))}, actSend, "forced", nil, nil},
		{"account sticky", decideIn{accountSticky: sticky, rrs: one(reg(want, time.Hour, "good", true), dnsSays(want))}, actBlocked, "sticky error badauth since 2026-11-27T09:00:00Z: fix it", nil, nil},
		{"host sticky", decideIn{hostSticky: sticky, rrs: one(nil, dnsSays())}, actBlocked, "sticky error badauth", nil, nil},
		{"hold-off, update needed", decideIn{hold: hold, rrs: one(nil, dnsSays())}, actBlocked, "next attempt at 2026-11-27T10:29:00Z", nil, nil},
		{"hold-off, nothing needed", decideIn{hold: hold, rrs: one(reg(want, time.Hour, "good", true), dnsSays(want))}, actNone, "", nil, nil},
		{"hold-off over", decideIn{hold: &Block{Code: "911", Until: now}, rrs: one(nil, dnsSays())}, actSend, "mismatch", nil, nil},
		{"address unknown", decideIn{missing: []string{"public-ipv4"}}, actSkip, "no public-ipv4", nil, nil},
		{"dual stack, one family wrong", decideIn{rrs: []rr{
			{typ: "A", want: want, dns: dnsSays(want), state: reg(want, time.Hour, "good", true)},
			{typ: "AAAA", want: netip.MustParseAddr("2001:db8::1"), dns: dnsSays()}}}, actSend, "AAAA: mismatch", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.now = now
			d := decide(tt.in)
			if d.act != tt.act {
				t.Fatalf("act = %d, want %d (%q)", d.act, tt.act, d.reasons)
			}
			if !strings.Contains(strings.Join(d.reasons, "; "), tt.reason) {
				t.Errorf("reasons %q lack %q", d.reasons, tt.reason)
			}
			if diff := cmp.Diff(tt.verify, d.verify); diff != "" {
				t.Errorf("verify: %s", diff)
			}
			if diff := cmp.Diff(tt.confirm, d.confirm); diff != "" {
				t.Errorf("confirm: %s", diff)
			}
		})
	}
}
