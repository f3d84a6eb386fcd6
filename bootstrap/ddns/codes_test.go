package ddns

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// twoSameAddress: two names that go out in one request.
const twoSameAddress = `
[[dns.records]]
name = "a.example.test"
address = "public-ipv4"
account = "main"

[[dns.records]]
name = "b.example.test"
address = "public-ipv4"
account = "main"
`

func TestEveryReturnCode(t *testing.T) {
	type kind int
	const (
		ok kind = iota
		sticky
		hold
		failed
	)
	tests := []struct {
		name  string
		reply dyndns.Reply
		kind  kind
		// okNames are registered despite the error (per-host lines).
		okNames []string
		// errText must appear in the first run's error.
		errText string
	}{
		{"good", dyndns.Reply{Body: "good 203.0.113.10\ngood 203.0.113.10\n", Update: true}, ok, []string{"a", "b"}, ""},
		{"nochg", dyndns.Reply{Body: "nochg 203.0.113.10\nnochg 203.0.113.10\n", Update: true}, ok, []string{"a", "b"}, ""},
		{"good without address, CRLF", dyndns.Reply{Body: "good\r\ngood\r\n", Update: true}, ok, []string{"a", "b"}, ""},
		{"one good line for two names", dyndns.Reply{Body: "good 203.0.113.10", Update: true}, ok, []string{"a", "b"}, ""},

		{"badauth", dyndns.Reply{Body: "badauth"}, sticky, nil, "badauth"},
		{"http 401", dyndns.Reply{Status: http.StatusUnauthorized, Body: "badauth"}, sticky, nil, "http 401"},
		{"http 403", dyndns.Reply{Status: http.StatusForbidden}, sticky, nil, "http 403"},
		{"!donator", dyndns.Reply{Body: "!donator"}, sticky, nil, "paid accounts"},
		{"badagent", dyndns.Reply{Body: "badagent"}, sticky, nil, "blocked this client"},
		{"badsys", dyndns.Reply{Body: "badsys"}, sticky, nil, "system parameter"},
		{"numhost", dyndns.Reply{Body: "numhost"}, sticky, nil, "one_host_per_request"},
		{"notfqdn for one name", dyndns.Reply{Body: "good 203.0.113.10\nnotfqdn", Update: true}, sticky, []string{"a"}, "not a fully qualified"},
		{"nohost for one name", dyndns.Reply{Body: "good 203.0.113.10\nnohost", Update: true}, sticky, []string{"a"}, "does not exist in this account"},
		{"abuse for one name", dyndns.Reply{Body: "abuse\ngood 203.0.113.10", Update: true}, sticky, []string{"b"}, "unblock"},
		{"!yours", dyndns.Reply{Body: "good\n!yours", Update: true}, sticky, []string{"a"}, "another account"},
		{"!active", dyndns.Reply{Body: "good\n!active", Update: true}, sticky, []string{"a"}, "not activated"},
		{"notfqdn for all", dyndns.Reply{Body: "notfqdn"}, sticky, nil, "notfqdn"},

		{"911", dyndns.Reply{Body: "911"}, hold, nil, "next attempt at 2026-11-27T10:30:00Z"},
		{"dnserr", dyndns.Reply{Body: "dnserr"}, hold, nil, "next attempt at 2026-11-27T10:30:00Z"},
		{"http 500", dyndns.Reply{Status: 500, Body: "oops"}, hold, nil, "http 500"},
		{"http 503", dyndns.Reply{Status: 503}, hold, nil, "http 503"},
		{"mixed good and dnserr", dyndns.Reply{Body: "good\ndnserr", Update: true}, hold, []string{"a"}, "dnserr"},
		{"mixed dnserr and good", dyndns.Reply{Body: "dnserr\ngood", Update: true}, hold, []string{"b"}, "dnserr"},

		{"unknown word", dyndns.Reply{Body: "success"}, failed, nil, `unknown reply "success"`},
		{"html page", dyndns.Reply{Body: "<html><body>Welcome</body></html>"}, failed, nil, "unknown reply"},
		{"empty body", dyndns.Reply{Body: ""}, failed, nil, "no reply"},
		{"extra lines", dyndns.Reply{Body: "good\ngood\ngood\n", Update: true}, ok, []string{"a", "b"}, ""},
		{"http 404", dyndns.Reply{Status: 404}, failed, nil, "http 404"},
		{"redirect", dyndns.Reply{Status: 302}, failed, nil, "not followed with credentials"},
		{"wait line (obsolete)", dyndns.Reply{Body: "w5m\nw5m"}, failed, nil, "unknown reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.records = twoSameAddress
			h.dyn.Script(tt.reply)
			r := h.run(false)
			if r.requests != 1 {
				t.Fatalf("first run sent %d requests", r.requests)
			}
			if tt.kind == ok {
				if r.err != nil {
					t.Fatalf("err = %v", r.err)
				}
			} else {
				mustErrContain(t, r.err, tt.errText)
			}
			for _, n := range tt.okNames {
				if got := h.lookup(n + ".example.test"); len(got) != 1 || got[0] != publicIP {
					t.Errorf("%s in DNS = %v", n, got)
				}
			}

			// The next run, a minute later.
			h.clock.Advance(time.Minute)
			r2 := h.run(false)
			switch tt.kind {
			case ok:
				if r2.requests != 0 || r2.err != nil {
					t.Errorf("after success: %d requests, err %v", r2.requests, r2.err)
				}
			case sticky:
				if r2.requests != 0 {
					t.Errorf("sticky error resent: %d requests", r2.requests)
				}
				mustErrContain(t, r2.err, "sticky error")
				if plan := h.plan(); !strings.Contains(plan, "ddns: blocked") {
					t.Errorf("plan does not show the block:\n%s", plan)
				}
				// A new password clears it...
				h.writeSecret("main.secret", "newpass")
				h.dyn.Users[testUser] = "newpass"
				if r3 := h.run(false); r3.requests != 1 || r3.err != nil {
					t.Errorf("after a credential change: %d requests, err %v", r3.requests, r3.err)
				}
			case hold:
				if r2.requests != 0 {
					t.Errorf("held-off provider asked again: %d requests", r2.requests)
				}
				mustErrContain(t, r2.err, "next attempt at 2026-11-27T10:30:00Z")
				h.clock.Advance(29 * time.Minute)
				if r3 := h.run(false); r3.requests != 1 || r3.err != nil {
					t.Errorf("after the hold-off: %d requests, err %v", r3.requests, r3.err)
				}
			case failed:
				// Not remembered: the next run simply tries again.
				if r2.requests != 1 || r2.err != nil {
					t.Errorf("after a failure: %d requests, err %v", r2.requests, r2.err)
				}
			}
		})
	}
}

func TestForceClearsStickyError(t *testing.T) {
	h := newHarness(t)
	h.records = twoSameAddress
	h.dyn.Script(dyndns.Reply{Body: "abuse\nabuse"})
	h.run(false)
	if r := h.run(false); r.requests != 0 {
		t.Fatalf("abuse resent")
	}
	if r := h.run(true); r.requests != 1 || r.err != nil {
		t.Fatalf("--force: %d requests, err %v", r.requests, r.err)
	}
	if r := h.run(false); r.requests != 0 || r.err != nil {
		t.Fatalf("after --force repaired it: %d requests, err %v", r.requests, r.err)
	}
}

func TestAccountLevelErrorStopsTheAccountsOtherRequests(t *testing.T) {
	h := newHarness(t) // two names with different addresses: two requests
	h.dyn.Script(dyndns.Reply{Body: "badauth"})
	r := h.run(false)
	if r.requests != 1 {
		t.Fatalf("requests = %d: after badauth the account's second request must not be sent", r.requests)
	}
	mustErrContain(t, r.err, "web.example.test: badauth", "int.example.test: not tried")
}

func TestTimeoutsAndResetsFailTheRunAndAreRetriedNextRun(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply dyndns.Reply
		want  string
	}{
		{"server never answers", dyndns.Reply{Hang: true}, "timeout"},
		{"connection reset", dyndns.Reply{Reset: true}, "connection"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.records = twoSameAddress
			h.timeout = "300ms"
			h.dyn.Script(tt.reply)
			r := h.run(false)
			mustErrContain(t, r.err, tt.want)
			if r.requests != 1 {
				t.Errorf("requests = %d", r.requests)
			}
			if r := h.run(false); r.err != nil || r.requests != 1 {
				t.Errorf("next run: err=%v requests=%d", r.err, r.requests)
			}
		})
	}
}

// TestBudgetBoundsTheStep: three accounts whose providers never answer,
// one after the other. The first uses its whole timeout, the budget cuts
// the second short, the third is not tried. The 500 ms between the first
// timeout and the budget is what the DNS checks and the second request's
// start may take on a loaded machine (100 ms was not always enough).
func TestBudgetBoundsTheStep(t *testing.T) {
	h := newHarness(t)
	h.dnsKeys = `budget = "1500ms"`
	h.timeout = "1s"
	h.records = twoSameAddress
	for _, acct := range []string{"other", "third"} {
		h.records += `
[dns.accounts.` + acct + `]
server = "` + h.dyn.URL() + `"
username = "testuser"
password_file = "/etc/ec2boot/main.secret"
timeout = "1s"

[[dns.records]]
name = "` + acct + `.example.test"
address = "public-ipv4"
account = "` + acct + `"
`
	}
	h.dyn.Script(dyndns.Reply{Hang: true}, dyndns.Reply{Hang: true}, dyndns.Reply{Hang: true})
	r := h.run(false)
	if r.requests != 2 {
		t.Errorf("requests = %d, want 2 (the third account is past the budget)", r.requests)
	}
	mustErrContain(t, r.err, "a.example.test: timeout", "other.example.test: timeout",
		"third.example.test: not tried: step budget (dns.budget) used up")
}
