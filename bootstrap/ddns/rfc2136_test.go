package ddns

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/logging"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/step"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
	"github.com/ec2boot/ec2boot/internal/testpeer/knot"
)

// rfcPolicy and rfcACL grant web-key only web.example.test and its
// ownership record (docs/dns.md's examples).
const rfcPolicy = `grant web-key name web.example.test. A AAAA;
grant web-key name _ec2boot.web.example.test. TXT;`

const rfcACL = `  - id: web-update
    key: web-key
    action: update
    update-type: [A, AAAA, TXT]
    update-owner: name
    update-owner-match: equal
    update-owner-name: [web, _ec2boot.web]`

// rfcRig is one instance registering through RFC 2136 with a real BIND.
type rfcRig struct {
	h      *harness
	addr   string
	secret string // web-key's
	cfg    string
}

// newRFCRig starts BIND; newRFCRigOn starts kind ("bind" or "knot").
func newRFCRig(t testing.TB) *rfcRig { return newRFCRigOn(t, "bind") }

func newRFCRigOn(t testing.TB, kind string) *rfcRig {
	t.Helper()
	h := newHarness(t)
	// TSIG signs with the step's clock: the server must agree with it.
	h.clock = clock.NewFake(time.Now())
	var addr, secret string
	if kind == "knot" {
		srv := knot.Start(t, knot.Options{Zone: "example.test", Keys: []string{"web-key"}, ACL: rfcACL})
		addr, secret = srv.Addr, srv.Secrets["web-key"]
	} else {
		srv := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"web-key"}, UpdatePolicy: rfcPolicy})
		addr, secret = srv.Addr, srv.Secrets["web-key"]
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rfc2136", "example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rfcRig{h: h, addr: addr, secret: secret, cfg: strings.ReplaceAll(string(b), "192.0.2.53:53", addr)}
	r.writeKey(fmt.Sprintf("key \"web-key\" {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", secret), 0o600)
	return r
}

func (r *rfcRig) writeKey(content string, mode os.FileMode) {
	p := r.h.root.Path("/etc/ec2boot/web.key")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		r.h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		r.h.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		r.h.t.Fatal(err)
	}
}

func (r *rfcRig) env(dryRun, force bool) *step.Env {
	r.h.t.Helper()
	cfg, ps := config.Load(config.Source{Name: "example.toml", Data: []byte(r.cfg)})
	if cfg == nil {
		r.h.t.Fatalf("config: %v", ps)
	}
	store, err := state.Open(r.h.root.Path(state.Dir), r.h.instanceID, dryRun)
	if err != nil {
		r.h.t.Fatal(err)
	}
	f := *r.h.facts
	return &step.Env{Root: r.h.root, Config: cfg, Facts: &f, State: store,
		Log: logging.New(r.h.logw, logging.JSON, true), Clock: r.h.clock, Force: force, DryRun: dryRun, Version: testVersion}
}

func (r *rfcRig) run() (requests int, err error) {
	r.h.t.Helper()
	p, err := NewStep().Plan(context.Background(), r.env(false, false))
	if err != nil {
		r.h.t.Fatal(err)
	}
	_, err = p.Apply(context.Background())
	return p.(*Plan).Requests(), err
}

// serial is the zone's SOA serial: it moves with every applied UPDATE.
func (r *rfcRig) serial() uint32 {
	r.h.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeSOA)
	resp, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).Exchange(m, r.addr)
	if err != nil || len(resp.Answer) == 0 {
		r.h.t.Fatalf("SOA: %v", err)
	}
	return resp.Answer[0].(*dns.SOA).Serial
}

func (r *rfcRig) lookup(name string) []netip.Addr {
	r.h.t.Helper()
	var out []netip.Addr
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qt)
		resp, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).Exchange(m, r.addr)
		if err != nil {
			r.h.t.Fatal(err)
		}
		for _, rr := range resp.Answer {
			switch v := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(v.A.To4())
				out = append(out, a)
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(v.AAAA)
				out = append(out, a)
			}
		}
	}
	return out
}

// TestRFC2136Step runs the documented example through the ddns step
// against BIND and Knot: register, nothing on a second run, a changed
// address replaced, and a name the key may not change blocked with one
// clear line.
func TestRFC2136Step(t *testing.T) {
	for _, kind := range []string{"bind", "knot"} {
		t.Run(kind, func(t *testing.T) { testRFC2136Step(t, kind) })
	}
}

func testRFC2136Step(t *testing.T, kind string) {
	r := newRFCRigOn(t, kind)
	denied := map[string]string{"bind": "db.example.test: REFUSED", "knot": "db.example.test: NOTAUTH(BADKEY)"}[kind]

	n, err := r.run()
	if err != nil || n != 1 {
		t.Fatalf("first run: %d requests, %v", n, err)
	}
	if d := cmp.Diff([]netip.Addr{localIP}, r.lookup("web.example.test"), cmpAddr); d != "" {
		t.Fatalf("BIND (-want +got):\n%s", d)
	}
	stateBefore, modBefore := r.h.stateFile()
	serial := r.serial()

	n, err = r.run()
	if err != nil || n != 0 {
		t.Errorf("second run: %d requests, %v; want none", n, err)
	}
	if got := r.serial(); got != serial {
		t.Errorf("the zone's serial moved from %d to %d on a no-change run", serial, got)
	}
	if after, mod := r.h.stateFile(); string(after) != string(stateBefore) || !mod.Equal(modBefore) {
		t.Error("a no-change run rewrote the state file")
	}

	moved := netip.MustParseAddr("10.200.0.77")
	r.h.facts.LocalIPv4 = moved
	n, err = r.run()
	if err != nil || n != 1 {
		t.Fatalf("run after the address moved: %d requests, %v", n, err)
	}
	if d := cmp.Diff([]netip.Addr{moved}, r.lookup("web.example.test"), cmpAddr); d != "" {
		t.Errorf("BIND after the change (-want +got):\n%s", d)
	}

	// A second name the key is not granted: one sticky line, then silence.
	r.cfg += "\n[[dns.records]]\nname = \"db.example.test\"\naddress = \"local-ipv4\"\naccount = \"corp\"\n"
	_, err = r.run()
	mustErrContain(t, err, denied, "does not let key web-key change db.example.test", "sticky")
	n, err = r.run()
	if n != 0 {
		t.Errorf("a refused name was sent again (%d requests)", n)
	}
	mustErrContain(t, err, "db.example.test: blocked")
}

func TestRFC2136PlanShowsTheUpdateWithoutTheSecret(t *testing.T) {
	r := newRFCRig(t)
	p, err := NewStep().Plan(context.Background(), r.env(true, false))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p.Describe(&b)
	got := b.String()
	for _, want := range []string{"zone example.test", "key hmac-sha256:web-key [secret redacted]",
		"update delete web.example.test. A", "update add web.example.test. 300 A 10.200.0.1", "send"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, r.secret) {
		t.Error("the plan shows the secret")
	}
}

func TestRFC2136KeyFileProblems(t *testing.T) {
	cases := []struct {
		name, content string
		mode          os.FileMode
		err, warn     string
	}{
		{name: "unreadable key", content: "key web-key { algorithm hmac-sha256; };", mode: 0o600,
			err: `account corp: key_file /etc/ec2boot/web.key: key "web-key" has no secret`},
		{name: "group-readable key works but is warned about", mode: 0o640,
			warn: "key_file /etc/ec2boot/web.key: mode 0640 lets other users read the TSIG key; chmod 0600"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRFCRig(t)
			if c.content != "" {
				r.writeKey(c.content, c.mode)
			} else {
				b, _ := os.ReadFile(r.h.root.Path("/etc/ec2boot/web.key"))
				r.writeKey(string(b), c.mode)
			}
			n, err := r.run()
			if c.err != "" {
				mustErrContain(t, err, c.err)
				if n != 0 {
					t.Errorf("%d requests with a bad key", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.h.log.String(), c.warn) {
				t.Errorf("log lacks %q:\n%s", c.warn, r.h.log.String())
			}
		})
	}
}

// cmpAddr compares addresses by value.
var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// BenchmarkRFC2136ColdRun is a first run: no state, the name holds another
// address, so the step reads DNS, reads the primary and sends one signed
// UPDATE.
func BenchmarkRFC2136ColdRun(b *testing.B) {
	r := newRFCRig(b)
	addrs := []netip.Addr{netip.MustParseAddr("10.200.0.1"), netip.MustParseAddr("10.200.0.2")}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_ = os.RemoveAll(r.h.root.Path(state.Dir))
		r.h.facts.LocalIPv4 = addrs[i%2]
		b.StartTimer()
		if n, err := r.run(); err != nil || n != 1 {
			b.Fatalf("%d requests, %v", n, err)
		}
	}
}

// BenchmarkRFC2136NoChangeRun is every later run: DNS already answers the
// address, nothing is sent.
func BenchmarkRFC2136NoChangeRun(b *testing.B) {
	r := newRFCRig(b)
	if _, err := r.run(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := r.run(); err != nil || n != 0 {
			b.Fatalf("%d requests, %v", n, err)
		}
	}
}

// TestRFC2136OwnershipProvider: the rfc2136 provider keeps the ownership
// record with the address in one UPDATE, and writes only while the record
// is the one the caller read.
func TestRFC2136OwnershipProvider(t *testing.T) {
	r := newRFCRig(t)
	p, err := NewStep().Plan(context.Background(), r.env(true, false))
	if err != nil {
		t.Fatal(err)
	}
	prov, ok := p.(*Plan).accounts["corp"].provider.(OwnershipProvider)
	if !ok {
		t.Fatal("the rfc2136 provider is not an OwnershipProvider")
	}
	ctx := context.Background()
	launch := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	a := Claimant{InstanceID: "i-0aaaaaaaaaaaaaaa1", LaunchTime: launch}
	b := Claimant{InstanceID: "i-0bbbbbbbbbbbbbbb2", LaunchTime: launch.Add(time.Hour)}
	web := "web.example.test"

	if _, found, err := prov.Owner(ctx, web); err != nil || found {
		t.Fatalf("owner of a new name: found=%v err=%v", found, err)
	}
	outs := prov.SendOwned(ctx, []Change{{Name: web, Addrs: []netip.Addr{localIP}}}, a, nil)
	if outs[0].Class != Success {
		t.Fatalf("first claim: %+v", outs[0])
	}
	got, found, err := prov.Owner(ctx, web)
	if err != nil || !found {
		t.Fatalf("owner after the claim: found=%v err=%v", found, err)
	}
	if d := cmp.Diff(Owner{Claimant: a, Addrs: []netip.Addr{localIP}}, got, cmpAddr); d != "" {
		t.Errorf("owner (-want +got):\n%s", d)
	}

	// b read the name before a claimed it: its write is refused.
	moved := netip.MustParseAddr("10.200.0.77")
	outs = prov.SendOwned(ctx, []Change{{Name: web, Addrs: []netip.Addr{moved}}}, b, nil)
	if outs[0].Class != Failed || outs[0].Code != "owner-changed" || !strings.Contains(outs[0].Detail, "i-0aaaaaaaaaaaaaaa1") {
		t.Errorf("stale claim: %+v", outs[0])
	}
	if d := cmp.Diff([]netip.Addr{localIP}, r.lookup(web), cmpAddr); d != "" {
		t.Errorf("a stale claim changed DNS:\n%s", d)
	}

	// b read a's record: it takes the name over, address and record at once.
	outs = prov.SendOwned(ctx, []Change{{Name: web, Addrs: []netip.Addr{moved}}}, b, map[string]*Owner{web: &got})
	if outs[0].Class != Success {
		t.Fatalf("takeover: %+v", outs[0])
	}
	got, _, _ = prov.Owner(ctx, web)
	if d := cmp.Diff(Owner{Claimant: b, Addrs: []netip.Addr{moved}}, got, cmpAddr); d != "" {
		t.Errorf("owner after the takeover (-want +got):\n%s", d)
	}
}

// twin is a second instance registering the same name on r's server.
func (r *rfcRig) twin(t *testing.T, instanceID string, launch time.Time, addr netip.Addr) *rfcRig {
	t.Helper()
	h := newHarness(t)
	h.clock = clock.NewFake(time.Now())
	h.instanceID = instanceID
	h.facts.InstanceID, h.facts.LaunchTime, h.facts.LocalIPv4 = instanceID, launch, addr
	o := &rfcRig{h: h, addr: r.addr, secret: r.secret, cfg: r.cfg}
	o.writeKey(fmt.Sprintf("key \"web-key\" {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", r.secret), 0o600)
	return o
}

// TestRFC2136NewerLaunchWins: with RFC 2136 the step decides from the
// ownership record. A registers; B, launched later, takes the name over
// (address and record in one UPDATE); A then yields without a request,
// and neither sends anything more.
func TestRFC2136NewerLaunchWins(t *testing.T) {
	for _, kind := range []string{"bind", "knot"} {
		t.Run(kind, func(t *testing.T) {
			base := newRFCRigOn(t, kind)
			launch := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
			a := base.twin(t, "i-0aaaaaaaaaaaaaaa1", launch, netip.MustParseAddr("10.200.0.1"))
			b := base.twin(t, "i-0bbbbbbbbbbbbbbb2", launch.Add(time.Hour), netip.MustParseAddr("10.200.0.2"))

			if n, err := a.run(); err != nil || n != 1 {
				t.Fatalf("A's first run: %d requests, %v", n, err)
			}
			if n, err := b.run(); err != nil || n != 1 {
				t.Fatalf("B's takeover: %d requests, %v", n, err)
			}
			if d := cmp.Diff([]netip.Addr{netip.MustParseAddr("10.200.0.2")}, a.lookup("web.example.test"), cmpAddr); d != "" {
				t.Fatalf("after the takeover (-want +got):\n%s", d)
			}
			for i := 0; i < 2; i++ {
				n, err := a.run()
				if n != 0 {
					t.Errorf("A run %d sent %d requests; the newer launch owns the name", i, n)
				}
				if err != nil {
					t.Errorf("A run %d: %v (yielding is degraded, not an error)", i, err)
				}
				if n, err := b.run(); err != nil || n != 0 {
					t.Errorf("B run %d: %d requests, %v", i, n, err)
				}
			}
			if !strings.Contains(a.h.log.String(), "the ownership record names i-0bbbbbbbbbbbbbbb2") {
				t.Errorf("A's log does not say who owns the name:\n%s", a.h.log.String())
			}
			if d := cmp.Diff([]netip.Addr{netip.MustParseAddr("10.200.0.2")}, a.lookup("web.example.test"), cmpAddr); d != "" {
				t.Errorf("the older launch took the name back (-want +got):\n%s", d)
			}
		})
	}
}
