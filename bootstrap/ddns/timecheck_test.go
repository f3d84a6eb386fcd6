package ddns

import (
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// y2099 is a build host's clock far ahead, or a clock that jumped back
// after the state was written.
var y2099 = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

// TestHoldOffFromTheFutureEndsWithinItsMaximum: a hold-off earned "in
// 2099" (state baked on a skewed host) holds updates off for at most
// HoldOffFor from now, is repaired on disk, and is logged once per run.
func TestHoldOffFromTheFutureEndsWithinItsMaximum(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	h.clock.Set(y2099)
	h.dyn.Script(dyndns.Reply{Body: "911"})
	if r := h.run(false); r.err == nil {
		t.Fatal("911 did not fail the run")
	}
	if hold := h.loadState().Accounts["main"].Hold; hold == nil || !hold.Until.After(y2099) {
		t.Fatalf("setup: no hold-off in 2099: %+v", hold)
	}

	h.clock.Set(now)
	store, _ := state.Open(h.root.Path(state.Dir), testInstance, true)
	cfg := h.config()
	rows, err := Status(store, &cfg.DNS, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.NextAttempt.After(now.Add(HoldOffFor)) || r.ErrorSince.After(now) {
			t.Errorf("status of %s: error since %s, next attempt %s; want neither past now+%s", r.Name, r.ErrorSince, r.NextAttempt, HoldOffFor)
		}
	}
	h.log.Reset()
	if r := h.run(false); r.requests != 0 {
		t.Fatalf("within the maximum hold-off: %d request(s)", r.requests)
	}
	if n := strings.Count(h.log.String(), "in the future"); n != 1 {
		t.Errorf("logged %d times, want once per run:\n%s", n, h.log.String())
	}
	hold := h.loadState().Accounts["main"].Hold
	if hold == nil || hold.Until.After(now.Add(HoldOffFor)) || hold.Since.After(now) {
		t.Errorf("hold-off on disk after the run: %+v; want since <= %s, until <= %s", hold, now, now.Add(HoldOffFor))
	}

	h.clock.Advance(HoldOffFor + time.Minute)
	if r := h.run(false); r.err != nil || r.requests == 0 {
		t.Errorf("after the maximum hold-off: err=%v, %d request(s); want the updates sent", r.err, r.requests)
	}
}

// TestRegistrationFromTheFutureIsRefreshed: a record "touched in 2099"
// is treated as touched now, so its refresh comes due on time instead of
// never.
func TestRegistrationFromTheFutureIsRefreshed(t *testing.T) {
	h := newHarness(t)
	h.dnsKeys = `refresh = "25d"`
	now := h.clock.Now()
	h.clock.Set(y2099)
	if r := h.run(false); r.err != nil || r.requests == 0 {
		t.Fatalf("setup run: %v, %d request(s)", r.err, r.requests)
	}
	h.clock.Set(now)
	if r := h.run(false); r.requests != 0 {
		t.Fatalf("DNS is right: %d request(s)", r.requests)
	}
	for k, rs := range h.loadState().Records {
		if rs.Touched.After(now) {
			t.Errorf("record %s touched %s on disk, after now %s", k, rs.Touched, now)
		}
	}
	h.clock.Advance(25*24*time.Hour + time.Minute)
	if r := h.run(false); r.err != nil || r.requests == 0 {
		t.Errorf("refresh due: err=%v, %d request(s)", r.err, r.requests)
	}
}

func TestSanitizeTable(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	st := &State{
		Records: map[string]*RecordState{"a": {Touched: y2099}, "b": {Touched: now.Add(-time.Hour)}},
		Hosts:   map[string]*Block{"x": {Since: y2099}},
		Accounts: map[string]*AccountState{
			"long":   {Hold: &Block{Since: now.Add(-time.Minute), Until: now.Add(24 * time.Hour)}},
			"sticky": {Sticky: &Block{Since: y2099}},
			"fine":   {Hold: &Block{Since: now.Add(-time.Minute), Until: now.Add(10 * time.Minute)}},
		},
	}
	msg := st.sanitize(now)
	for _, want := range []string{"3 time(s) in the future (latest 2099-01-01T00:00:00Z", "hold-off of account(s) long cut to the 30m0s maximum"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if !st.Records["a"].Touched.Equal(now) || !st.Records["b"].Touched.Equal(now.Add(-time.Hour)) ||
		!st.Hosts["x"].Since.Equal(now) || !st.Accounts["sticky"].Sticky.Since.Equal(now) ||
		!st.Accounts["long"].Hold.Until.Equal(now.Add(-time.Minute).Add(HoldOffFor)) ||
		!st.Accounts["fine"].Hold.Until.Equal(now.Add(10*time.Minute)) {
		t.Errorf("sanitized state wrong: %+v %+v %+v", st.Records, st.Hosts, st.Accounts)
	}
	if again := st.sanitize(now); again != "" {
		t.Errorf("a sound state reported: %q", again)
	}
}
