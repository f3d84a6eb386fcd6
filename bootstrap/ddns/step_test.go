package ddns

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestFirstRunRegistersThenNoChangeRunSendsAndWritesNothing(t *testing.T) {
	h := newHarness(t)
	r := h.run(false)
	if r.err != nil {
		t.Fatalf("first run: %v", r.err)
	}
	if r.requests != 2 {
		t.Errorf("first run sent %d requests, want 2 (external and internal address)", r.requests)
	}
	for name, want := range map[string]netip.Addr{"web.example.test": publicIP, "int.example.test": localIP} {
		if diff := cmp.Diff([]netip.Addr{want}, h.lookup(name), addrCmp); diff != "" {
			t.Errorf("DNS for %s (-want +got):\n%s", name, diff)
		}
	}
	reqs := h.dyn.Requests()
	for _, q := range reqs {
		if !q.AuthHeader || q.User != testUser || q.Password != testPassword {
			t.Errorf("request %s: auth header=%v user=%q", q.RawQuery, q.AuthHeader, q.User)
		}
		if q.UserAgent != "ec2boot/1.2.3 (+https://github.com/ec2boot/ec2boot)" {
			t.Errorf("User-Agent = %q", q.UserAgent)
		}
		if q.Method != "GET" || q.Path != "/nic/update" {
			t.Errorf("request %s %s", q.Method, q.Path)
		}
	}
	stateBytes, mtime := h.stateFile()
	if stateBytes == nil {
		t.Fatal("no state written")
	}
	if strings.Contains(string(stateBytes), testPassword) {
		t.Fatal("state holds the password")
	}

	h.clock.Advance(time.Hour)
	for i := 0; i < 2; i++ {
		r = h.run(false)
		if r.err != nil || r.requests != 0 || len(r.res.Changed) != 0 || len(r.res.Degraded) != 0 {
			t.Fatalf("no-change run %d: err=%v requests=%d result=%+v", i, r.err, r.requests, r.res)
		}
		b, m := h.stateFile()
		if !bytes.Equal(b, stateBytes) || !m.Equal(mtime) {
			t.Fatalf("no-change run %d wrote state", i)
		}
	}
	if out := h.plan(); out != "" {
		t.Errorf("plan of a no-change run says:\n%s", out)
	}
}

func TestSameAddressNamesShareOneRequestAndDualStackSendsBoth(t *testing.T) {
	h := newHarness(t)
	h.records = `
[[dns.records]]
name = "a.example.test"
address = "public-ipv4"
account = "main"
[[dns.records]]
name = "b.example.test"
address = "public-ipv4"
account = "main"
[[dns.records]]
name = "ds.example.test"
address = "public-ipv4+ipv6"
account = "main"
[[dns.records]]
name = "v6.example.test"
address = "ipv6"
account = "main"
`
	r := h.run(false)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got []string
	for _, q := range h.dyn.Requests() {
		got = append(got, q.RawQuery)
	}
	want := []string{
		"hostname=a.example.test,b.example.test&myip=203.0.113.10",
		"hostname=ds.example.test&myip=203.0.113.10,2001:db8::10",
		"hostname=v6.example.test&myip=2001:db8::10",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]netip.Addr{publicIP, ipv6IP}, h.lookup("ds.example.test"), addrCmp); diff != "" {
		t.Errorf("dual-stack name in DNS (-want +got):\n%s", diff)
	}
	if r := h.run(false); r.requests != 0 || r.err != nil {
		t.Errorf("re-run: %d requests, err %v", r.requests, r.err)
	}
}

func TestBatchesOfTwentyAndOneHostPerRequest(t *testing.T) {
	var recs strings.Builder
	for i := 0; i < 25; i++ {
		recs.WriteString("[[dns.records]]\nname = \"n" + string(rune('a'+i)) + ".example.test\"\naddress = \"public-ipv4\"\naccount = \"main\"\n")
	}
	for _, tt := range []struct {
		name    string
		account string
		want    []int
	}{
		{"lists", "", []int{20, 5}},
		{"one per request", "one_host_per_request = true", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.records, h.account = recs.String(), tt.account
			if r := h.run(false); r.err != nil {
				t.Fatal(r.err)
			}
			var got []int
			for _, q := range h.dyn.Requests() {
				got = append(got, len(q.Hostnames))
			}
			want := tt.want
			if want == nil {
				for i := 0; i < 25; i++ {
					want = append(want, 1)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("names per request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOptionsOnTheWire(t *testing.T) {
	h := newHarness(t)
	h.account = "wildcard = \"on\"\nmx = \"mail.example.test\"\nbackmx = \"yes\"\noffline = true"
	h.records = "[[dns.records]]\nname = \"web.example.test\"\naddress = \"public-ipv4\"\naccount = \"main\"\n"
	if r := h.run(false); r.err != nil {
		t.Fatal(r.err)
	}
	want := "hostname=web.example.test&myip=203.0.113.10&wildcard=ON&mx=mail.example.test&backmx=YES&offline=YES"
	if got := h.dyn.Requests()[0].RawQuery; got != want {
		t.Errorf("query = %q, want %q", got, want)
	}
}

func TestUnknownAddressIsSkippedNeverGuessed(t *testing.T) {
	h := newHarness(t)
	h.facts.PublicIPv4 = netip.Addr{} // a private instance, or metadata not ready
	r := h.run(false)
	if r.err != nil {
		t.Fatalf("err = %v", r.err)
	}
	if r.requests != 1 {
		t.Fatalf("requests = %d, want 1 (only the internal name)", r.requests)
	}
	for _, q := range h.dyn.Requests() {
		if !q.HasMyIP || q.MyIP == "" || strings.Contains(q.RawQuery, "web.example.test") {
			t.Errorf("request %q", q.RawQuery)
		}
	}
	if len(r.res.Degraded) != 1 || !strings.Contains(r.res.Degraded[0], "web.example.test") ||
		!strings.Contains(r.res.Degraded[0], "no public-ipv4") {
		t.Errorf("degraded = %q", r.res.Degraded)
	}

	// A link-local address is never registered either.
	h.facts.PublicIPv4 = netip.MustParseAddr("169.254.10.10")
	r = h.run(false)
	if r.requests != 0 || len(r.res.Degraded) != 1 || !strings.Contains(r.res.Degraded[0], "not routable") {
		t.Errorf("link-local: requests=%d degraded=%q", r.requests, r.res.Degraded)
	}
}

func TestRecordChangedElsewhereIsRepairedWithoutNochg(t *testing.T) {
	h := newHarness(t)
	if r := h.run(false); r.err != nil {
		t.Fatal(r.err)
	}
	// Someone edits the record at the provider.
	if err := h.dns.Update(context.Background(), "web.example.test", []netip.Addr{otherIP}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	plan := h.plan()
	if !strings.Contains(plan, "mismatch: DNS says 198.51.100.7, want 203.0.113.10") {
		t.Errorf("plan does not explain the repair:\n%s", plan)
	}
	h.dyn.Reset()
	r := h.run(false)
	if r.err != nil || r.requests != 1 {
		t.Fatalf("repair run: err=%v requests=%d", r.err, r.requests)
	}
	q := h.dyn.Requests()[0]
	if q.RawQuery != "hostname=web.example.test&myip=203.0.113.10" || !strings.HasPrefix(q.Answer, "good") {
		t.Errorf("repair request %q answered %q", q.RawQuery, q.Answer)
	}
	if r := h.run(false); r.requests != 0 {
		t.Errorf("after repair: %d requests", r.requests)
	}
}

func TestRefreshAfterInterval(t *testing.T) {
	h := newHarness(t)
	h.dnsKeys = `refresh = "25d"`
	if r := h.run(false); r.err != nil {
		t.Fatal(r.err)
	}
	h.clock.Advance(25*24*time.Hour - time.Minute)
	if r := h.run(false); r.requests != 0 {
		t.Fatalf("before the refresh interval: %d requests", r.requests)
	}
	h.clock.Advance(time.Minute)
	if plan := h.plan(); !strings.Contains(plan, "refresh due: last touched 2026-11-27T10:00:00Z (every 25d)") {
		t.Errorf("plan:\n%s", plan)
	}
	r := h.run(false)
	if r.err != nil || r.requests != 2 {
		t.Fatalf("refresh run: err=%v requests=%d", r.err, r.requests)
	}
	if r := h.run(false); r.requests != 0 {
		t.Errorf("after refresh: %d requests", r.requests)
	}
}

func TestForceSendsRegardless(t *testing.T) {
	h := newHarness(t)
	h.run(false)
	r := h.run(true)
	if r.err != nil || r.requests != 2 {
		t.Fatalf("forced run: err=%v requests=%d", r.err, r.requests)
	}
	for _, q := range h.dyn.Requests()[2:] {
		if !strings.HasPrefix(q.Answer, "nochg") {
			t.Errorf("forced request answered %q, want nochg", q.Answer)
		}
	}
}

func TestStateFromAnotherInstanceIsIgnored(t *testing.T) {
	h := newHarness(t)
	// A state directory baked into an image: another instance registered
	// other addresses and earned a badauth.
	h.instanceID = "i-0bbbbbbbbbbbbbbb2"
	h.facts.InstanceID = h.instanceID
	h.dyn.Script(dyndns.Reply{Body: "badauth"})
	if r := h.run(false); r.err == nil {
		t.Fatal("badauth did not fail the run")
	}
	old := h.loadState()
	if old.Accounts["main"] == nil || old.Accounts["main"].Sticky == nil {
		t.Fatalf("setup: no sticky error in state: %+v", old)
	}

	h.instanceID = testInstance
	h.facts.InstanceID = testInstance
	h.dyn.Reset()
	r := h.run(false)
	if r.err != nil || r.requests != 2 {
		t.Fatalf("new instance: err=%v requests=%d (the other instance's sticky error must not apply)", r.err, r.requests)
	}
	b, _ := h.stateFile()
	var env struct {
		InstanceID string `json:"instance_id"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.InstanceID != testInstance {
		t.Errorf("state instance = %q (%v)", env.InstanceID, err)
	}
}

func TestConcurrentAppliesDoNotDoubleSend(t *testing.T) {
	h := newHarness(t)
	h.records = "[[dns.records]]\nname = \"web.example.test\"\naddress = \"public-ipv4\"\naccount = \"main\"\n"
	// Both runs plan before either applies; the first request is slow so
	// that the two applies overlap.
	h.dyn.Script(dyndns.Reply{Normal: true, Delay: 100 * time.Millisecond})
	var plans []*Plan
	for i := 0; i < 2; i++ {
		p, err := NewStep().Plan(context.Background(), h.env(false, false))
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p.(*Plan))
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Apply(context.Background())
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors: %v", errs)
	}
	if n := h.dyn.Count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	st := h.loadState()
	if st.Records[recordKey("main", "web.example.test", "A")] == nil {
		t.Errorf("state lost the registration: %+v", st)
	}
}

func TestPlanShowsExactRequestRedactedAndTouchesNothing(t *testing.T) {
	h := newHarness(t)
	if err := h.dns.Update(context.Background(), "web.example.test", []netip.Addr{otherIP}); err != nil {
		t.Fatal(err)
	}
	got := h.plan()
	want := strings.NewReplacer("URL", h.dyn.URL(), "CHECK", h.dns.Addr()).Replace(`ddns: 2 request(s) to send
  account main:
    GET URL/nic/update?hostname=web.example.test&myip=203.0.113.10
      Authorization: Basic testuser:[redacted]
      User-Agent: ec2boot/1.2.3 (+https://github.com/ec2boot/ec2boot)
    why web.example.test: A: mismatch: DNS says 198.51.100.7, want 203.0.113.10
  account main:
    GET URL/nic/update?hostname=int.example.test&myip=10.200.0.1
      Authorization: Basic testuser:[redacted]
      User-Agent: ec2boot/1.2.3 (+https://github.com/ec2boot/ec2boot)
    why int.example.test: A: mismatch: DNS says nothing, want 10.200.0.1
ddns: names, owners, and what this run does:
  web.example.test A 203.0.113.10: owner: another claimant or an old value (DNS answers 198.51.100.7); sends an update
  int.example.test A 10.200.0.1: owner: nobody (DNS answers nothing); sends an update
`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if strings.Contains(got, testPassword) {
		t.Fatal("plan shows the password")
	}
	if h.dyn.Count() != 0 {
		t.Errorf("plan sent %d requests", h.dyn.Count())
	}
	if _, err := os.Stat(h.root.Path(state.Dir)); !os.IsNotExist(err) {
		t.Errorf("plan created the state directory (%v)", err)
	}
}

func TestStatusShowsRegistrationsAndStickyErrors(t *testing.T) {
	h := newHarness(t)
	h.dyn.Script(dyndns.Reply{Body: "good 203.0.113.10", Update: true}, dyndns.Reply{Body: "nohost"})
	if r := h.run(false); r.err == nil {
		t.Fatal("nohost did not fail the run")
	}
	store, _ := state.Open(h.root.Path(state.Dir), testInstance, true)
	cfg := h.config()
	got, err := Status(store, &cfg.DNS, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("status = %+v", got)
	}
	intS, webS := got[0], got[1]
	if webS.Name != "web.example.test" || webS.Addr != publicIP || webS.Type != "A" || webS.Code != "good" ||
		!webS.RegisteredAt.Equal(h.clock.Now()) || webS.Error != "" {
		t.Errorf("web status = %+v", webS)
	}
	if intS.Name != "int.example.test" || intS.Addr.IsValid() || !strings.HasPrefix(intS.Error, "nohost: ") {
		t.Errorf("int status = %+v", intS)
	}
	var b bytes.Buffer
	WriteStatus(&b, got)
	for _, want := range []string{"web.example.test  A     203.0.113.10  2026-11-27T10:00:00Z (good)", "int.example.test  -     -", "nohost: the name does not exist"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestStateWritesAreAtomicAndPrivate(t *testing.T) {
	h := newHarness(t)
	h.run(false)
	p := filepath.Join(h.root.Path(state.Dir), stateName+".json")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("state mode %v", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(h.root.Path(state.Dir))
	for _, e := range entries {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestCorruptStateStartsFresh(t *testing.T) {
	h := newHarness(t)
	dir := h.root.Path(state.Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateName+".json"), []byte("{\"instance_id\": \"i-0aaaaaaaaaaaaaaa1\", \"data\": {\"records\": 7"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := h.run(false); r.err != nil || r.requests != 2 {
		t.Fatalf("err=%v requests=%d", r.err, r.requests)
	}
	if !strings.Contains(h.log.String(), "ddns state unreadable") {
		t.Errorf("no warning logged:\n%s", h.log.String())
	}
	if r := h.run(false); r.err != nil || r.requests != 0 {
		t.Fatalf("second run: err=%v requests=%d", r.err, r.requests)
	}
}

// When the metadata service is down the run goes on with cached facts, but
// a cached address (the public one changes at every stop/start) is never
// registered: the records are skipped and reported, nothing is sent.
func TestCachedFactsAreNeverRegistered(t *testing.T) {
	h := newHarness(t)
	h.facts.Source = facts.SourceCache
	r := h.run(true) // even forced
	if r.err != nil || r.requests != 0 {
		t.Fatalf("cached facts: err=%v requests=%d", r.err, r.requests)
	}
	if len(r.res.Degraded) == 0 || !strings.Contains(strings.Join(r.res.Degraded, "\n"), "cached address is never registered") {
		t.Errorf("degraded = %q", r.res.Degraded)
	}
}

// An account-wide hold-off stops updates, but a record DNS already answers
// correctly needs none: status shows it registered, with no error, and
// keeps the hold-off on the record that still waits for it.
func TestStatusUnderHoldOffKeepsRecordsDNSShowsRight(t *testing.T) {
	h := newHarness(t)
	// web's address is in DNS already; int's is not, and the provider
	// answers its update with 911 (an account-wide hold-off).
	if err := h.dns.Update(context.Background(), "web.example.test", []netip.Addr{publicIP}); err != nil {
		t.Fatal(err)
	}
	h.dyn.Script(dyndns.Reply{Body: "911"})
	if r := h.run(false); r.err == nil {
		t.Fatal("911 did not fail the run")
	}
	h.clock.Advance(time.Minute)
	if r := h.run(false); r.requests != 0 {
		t.Fatalf("a run under hold-off sent %d request(s)", r.requests)
	}
	store, _ := state.Open(h.root.Path(state.Dir), testInstance, true)
	cfg := h.config()
	got, err := Status(store, &cfg.DNS, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Name, Addr, Via, ErrorPrefix string }
	var rows []row
	for _, s := range got {
		r := row{Name: s.Name, Via: s.Via}
		if s.Addr.IsValid() {
			r.Addr = s.Addr.String()
		}
		r.ErrorPrefix, _, _ = strings.Cut(s.Error, ":")
		rows = append(rows, r)
	}
	want := []row{
		{Name: "int.example.test", ErrorPrefix: "911"},
		{Name: "web.example.test", Addr: publicIP.String(), Via: "dns"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	var b bytes.Buffer
	WriteStatus(&b, got)
	if !strings.Contains(b.String(), "web.example.test  A     203.0.113.10") || strings.Count(b.String(), "911") != 1 {
		t.Errorf("status table:\n%s", b.String())
	}
}

func TestStatusJSONWritesAbsentTimesAsNull(t *testing.T) {
	rs := []RecordStatus{
		{Account: "main", Name: "never.example.test"},
		{Account: "main", Name: "web.example.test", Type: "A", Addr: publicIP, Via: "update",
			RegisteredAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
	}
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"account": "main", "name": "never.example.test", "addr": "", "registered_at": nil, "error_since": nil, "next_attempt": nil},
		{"account": "main", "name": "web.example.test", "type": "A", "addr": "203.0.113.10", "via": "update",
			"registered_at": "2026-11-27T10:00:00Z", "error_since": nil, "next_attempt": nil},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("status JSON (-want +got):\n%s\n%s", d, b)
	}
}
