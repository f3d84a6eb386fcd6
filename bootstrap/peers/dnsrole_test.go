package peers

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	fleetnames "github.com/ec2boot/ec2boot/bootstrap/names"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

func memberStrings(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name+"="+joinAddrs(m.Addrs))
	}
	return out
}

// TestSources runs each source on its own, table-driven.
func TestSources(t *testing.T) {
	fake := &fakeDNS{addrs: map[string][]string{
		"web.roles.example.test": {"10.0.2.2", "10.0.2.1", "2001:db8::2", "169.254.169.254", "10.0.2.1"},
	}}
	tmpl, err := fleetnames.Parse("web-{{ .LocalIPv4Dashed }}.example.test")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := fleetnames.Parse("{{ .LocalIPv4 }}-x-")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     RoleSource
		want    []string
		wantErr string
	}{
		{"static: names without addresses, normalised", Static{"DB-1.example.test.", "db-2.example.test"}, []string{"db-1.example.test=", "db-2.example.test="}, ""},
		{"static: empty", Static{}, nil, ""},
		{"dns: one member per address, reserved dropped", RoleRecord{Resolver: fake, Record: "web.roles.example.test", Timeout: time.Second},
			[]string{"ip-10-0-2-1.web.roles.example.test=10.0.2.1", "ip-10-0-2-2.web.roles.example.test=10.0.2.2", "ip-2001-db8--2.web.roles.example.test=2001:db8::2"}, ""},
		{"dns: named by template", RoleRecord{Resolver: fake, Record: "web.roles.example.test", Name: tmpl, Timeout: time.Second},
			[]string{"web-10-0-2-1.example.test=10.0.2.1", "web-10-0-2-2.example.test=10.0.2.2", "web-2001-db8--2.example.test=2001:db8::2"}, ""},
		{"dns: NXDOMAIN is an empty role", RoleRecord{Resolver: fake, Record: "none.roles.example.test", Timeout: time.Second}, nil, ""},
		{"dns: a template giving an invalid name", RoleRecord{Resolver: fake, Record: "web.roles.example.test", Name: bad, Timeout: time.Second}, nil, "starts or ends with '-'"},
		{"dns: server down", RoleRecord{Resolver: &fakeDNS{block: true}, Record: "web.roles.example.test", Timeout: 50 * time.Millisecond}, nil, "deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := tc.src.Members(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, memberStrings(ms)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRoleRecordAgainstBind: members publish their addresses under one
// name in a real server; the role is what it answers.
func TestRoleRecordAgainstBind(t *testing.T) {
	srv := bind.Start(t, "example.test")
	ctx := ctxT(t)
	pub := []netip.Addr{netip.MustParseAddr("10.0.3.1"), netip.MustParseAddr("10.0.3.2"), netip.MustParseAddr("2001:db8::31")}
	if err := srv.Update(ctx, "queue.roles.example.test", pub); err != nil {
		t.Fatal(err)
	}
	src := RoleRecord{Resolver: DirectResolver{Server: srv.Addr}, Record: "queue.roles.example.test", Timeout: 5 * time.Second}
	ms, err := src.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ip-10-0-3-1.queue.roles.example.test=10.0.3.1", "ip-10-0-3-2.queue.roles.example.test=10.0.3.2", "ip-2001-db8--31.queue.roles.example.test=2001:db8::31"}
	if diff := cmp.Diff(want, memberStrings(ms)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	// A member removes its own address: the role shrinks by one.
	if err := srv.Update(ctx, "queue.roles.example.test", pub[1:]); err != nil {
		t.Fatal(err)
	}
	if ms, err = src.Members(ctx); err != nil || len(ms) != 2 {
		t.Errorf("after one left: %v, %v", memberStrings(ms), err)
	}
}

// TestRoleRecordOutage: a role record that stops answering keeps the last
// known members, with their age, until peers.stale_after; then the role
// is empty and the guard refuses to write it.
func TestRoleRecordOutage(t *testing.T) {
	fake := &fakeDNS{addrs: map[string][]string{"web.roles.example.test": {"10.0.2.1", "10.0.2.2"}}}
	cfg := config.Default()
	cfg.Peers.Timeout.Duration = 50 * time.Millisecond
	cfg.Peers.Discover = map[string]config.Discover{"web": {Source: "dns", Record: "web.roles.example.test"}}
	store := openStore(t)
	clk := clock.NewFake(t0)
	run := func() *Set {
		t.Helper()
		set, err := Resolve(context.Background(), Input{Config: cfg, Clock: clk, State: store, Resolver: fake})
		if err != nil {
			t.Fatal(err)
		}
		if err := set.Remember(store); err != nil {
			t.Fatal(err)
		}
		return set
	}
	steps := []struct {
		advance  time.Duration
		block    bool
		want     []string
		degraded string
		refused  string
	}{
		{0, false, []string{"ip-10-0-2-1.web.roles.example.test/dns", "ip-10-0-2-2.web.roles.example.test/dns"}, "", ""},
		{time.Hour, true, []string{"ip-10-0-2-1.web.roles.example.test/stale", "ip-10-0-2-2.web.roles.example.test/stale"}, "kept at its 2 last known members, not answering for under a minute", ""},
		{23 * time.Hour, true, []string{"ip-10-0-2-1.web.roles.example.test/stale", "ip-10-0-2-2.web.roles.example.test/stale"}, "not answering for 23h0m", ""},
		{2 * time.Hour, true, nil, "dropped its 2 last known members", "role web would be empty"},
		{time.Minute, false, []string{"ip-10-0-2-1.web.roles.example.test/dns", "ip-10-0-2-2.web.roles.example.test/dns"}, "", ""},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		fake.block = st.block
		set := run()
		if diff := cmp.Diff(st.want, roleNames(set.Roles["web"])); diff != "" {
			t.Errorf("step %d (-want +got):\n%s", i, diff)
		}
		deg := strings.Join(set.Degraded(), "\n")
		if (st.degraded == "") != (deg == "") || !strings.Contains(deg, st.degraded) {
			t.Errorf("step %d: degraded %q, want %q", i, deg, st.degraded)
		}
		if got := set.Refused(); (st.refused == "") != (got == nil) || (got != nil && !strings.Contains(got.Error(), st.refused)) {
			t.Errorf("step %d: refused %v, want %q", i, got, st.refused)
		}
	}
}
