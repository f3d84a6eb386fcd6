package rfc2136

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
	"github.com/ec2boot/ec2boot/internal/testpeer/knot"
)

// RoleBindPolicy and RoleKnotACL grant a role's members their role record
// and its members' TXT set, and nothing else; docs/dns.md shows them
// (TestDocsShowTheRolePolicies).
const RoleBindPolicy = `grant role-key name queue.roles.example.test. A AAAA;
grant role-key name _ec2boot-members.queue.roles.example.test. TXT;`

const RoleKnotACL = `  - id: queue-members
    key: role-key
    action: update
    update-type: [A, AAAA, TXT]
    update-owner: name
    update-owner-match: equal
    update-owner-name: [queue.roles, _ec2boot-members.queue.roles]`

const role = "queue.roles.example.test"

func startRolePeer(t *testing.T, kind string) peer {
	t.Helper()
	keys := []string{"role-key", otherWriter}
	if kind == "bind" {
		s := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: keys,
			UpdatePolicy: RoleBindPolicy + "\ngrant " + otherWriter + " zonesub ANY;"})
		return peer{kind: kind, addr: s.Addr, secrets: s.Secrets, dir: s.Dir}
	}
	s := knot.Start(t, knot.Options{Zone: "example.test", Keys: keys,
		ACL: RoleKnotACL + "\n  - id: other-update\n    key: " + otherWriter + "\n    action: update\n"})
	return peer{kind: kind, addr: s.Addr, secrets: s.Secrets, dir: s.Dir}
}

var t0 = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

func mem(id, addr string, at time.Time) member.Member {
	return member.Member{Role: "queue", InstanceID: id, Addr: netip.MustParseAddr(addr), Refreshed: at}
}

// roster is what the server holds, as sorted zone-file text.
func (p peer) roster(t *testing.T) []string {
	t.Helper()
	out := append(p.lookup(t, role, dns.TypeA), p.lookup(t, member.TXTName(role), dns.TypeTXT)...)
	slices.Sort(out)
	return out
}

func txt(m member.Member) string {
	return member.TXTName(role) + ` 300 IN TXT "` + m.Value() + `"`
}

func a(addr string) string { return role + ". 300 IN A " + addr }

func sync(t *testing.T, reg member.Registry, me member.Member) member.Report {
	t.Helper()
	rep, err := member.Sync(context.Background(), reg, role, me, member.RefreshEvery, member.StaleAfter)
	if err != nil {
		t.Fatalf("Sync(%s): %v", me.InstanceID, err)
	}
	return rep
}

// raceOnPrune lets the stale member refresh between the pruner's read and
// its conditional delete: the delete must fail and change nothing.
type raceOnPrune struct {
	member.Registry
	before func()
}

func (r *raceOnPrune) Prune(ctx context.Context, ro member.Roster, m member.Member) error {
	if r.before != nil {
		r.before()
		r.before = nil
	}
	return r.Registry.Prune(ctx, ro, m)
}

func TestRoleMembers(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			p := startRolePeer(t, kind)
			reg := Members{C: p.client("role-key")}
			other := p.client(otherWriter)
			// Someone else's records under the role: an address without
			// a member record and a TXT that is not ec2boot's.
			if err := bindUpdate(t, other, "example.test.", role+". 300 IN A 192.0.2.99", member.TXTName(role)+` 300 IN TXT "v=spf1 -all"`); err != nil {
				t.Fatal(err)
			}
			foreign := []string{a("192.0.2.99"), member.TXTName(role) + ` 300 IN TXT "v=spf1 -all"`}

			m1, m2, m3 := mem("i-1", "10.0.0.1", t0), mem("i-2", "10.0.0.2", t0), mem("i-3", "10.0.0.3", t0)
			for _, m := range []member.Member{m1, m2, m3} {
				if rep := sync(t, reg, m); !rep.Published {
					t.Fatalf("%s not published", m.InstanceID)
				}
			}
			check := func(what string, want ...string) {
				t.Helper()
				want = append(want, foreign...)
				got := p.roster(t)
				if d := cmp.Diff(sorted(want), got); d != "" {
					t.Fatalf("%s: records (-want +got):\n%s", what, d)
				}
			}
			check("three published", a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.3"), txt(m1), txt(m2), txt(m3))

			// A run within the refresh period sends nothing.
			serial := p.serial(t)
			if rep := sync(t, reg, mem("i-1", "10.0.0.1", t0.Add(5*time.Hour))); rep.Published || len(rep.Pruned) > 0 {
				t.Fatalf("within the refresh period: %+v", rep)
			}
			if s := p.serial(t); s != serial {
				t.Fatalf("serial %d -> %d: a run within the refresh period changed the zone", serial, s)
			}

			// i-2 refreshes after 6 h; i-3 never does again.
			m2b := mem("i-2", "10.0.0.2", t0.Add(7*time.Hour))
			if rep := sync(t, reg, m2b); !rep.Published {
				t.Fatal("i-2 not refreshed after 7 h")
			}
			check("i-2 refreshed", a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.3"), txt(m1), txt(m2b), txt(m3))

			// i-1 refreshes at 20 h, so that only i-3 is stale at 25 h.
			m1c := mem("i-1", "10.0.0.1", t0.Add(20*time.Hour))
			sync(t, reg, m1c)
			// i-3 refreshes while i-2 prunes it: the lost race is read
			// again and i-3 stays.
			m3b := mem("i-3", "10.0.0.3", t0.Add(25*time.Hour))
			racy := &raceOnPrune{Registry: reg, before: func() { sync(t, reg, m3b) }}
			m2c := mem("i-2", "10.0.0.2", t0.Add(25*time.Hour))
			rep := sync(t, racy, m2c)
			if len(rep.Pruned) != 0 || len(rep.Raced) != 1 || rep.Raced[0] != "i-3" {
				t.Fatalf("race: %+v, want i-3 raced and kept", rep)
			}
			check("lost race", a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.3"), txt(m1c), txt(m2c), txt(m3b))

			// i-3 vanishes; past 24 h after its refresh, i-1 prunes it.
			m1d := mem("i-1", "10.0.0.1", t0.Add(50*time.Hour))
			rep = sync(t, reg, m1d)
			if len(rep.Pruned) != 2 {
				t.Fatalf("pruned %+v, want i-2 and i-3", rep.Pruned)
			}
			check("pruned", a("10.0.0.1"), txt(m1d))

			// i-1 leaves cleanly.
			left, err := member.Leave(context.Background(), reg, role, "i-1")
			if err != nil || !left {
				t.Fatalf("Leave = %v, %v", left, err)
			}
			check("left")
			if left, err := member.Leave(context.Background(), reg, role, "i-1"); err != nil || left {
				t.Fatalf("second Leave = %v, %v; want nothing to do", left, err)
			}
		})
	}
}

// TestRoleMemberSharedAddress: a new member given a stale member's address
// keeps it when the stale one is pruned.
func TestRoleMemberSharedAddress(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			p := startRolePeer(t, kind)
			reg := Members{C: p.client("role-key")}
			old := mem("i-old", "10.0.0.5", t0)
			sync(t, reg, old)
			neu := mem("i-new", "10.0.0.5", t0.Add(30*time.Hour))
			rep := sync(t, reg, neu)
			if len(rep.Pruned) != 1 {
				t.Fatalf("pruned %+v, want i-old", rep.Pruned)
			}
			if d := cmp.Diff(sorted([]string{a("10.0.0.5"), txt(neu)}), p.roster(t)); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
		})
	}
}

// TestRoleKeyIsNarrow: the role's key cannot write beside its two names.
func TestRoleKeyIsNarrow(t *testing.T) {
	for _, kind := range peerKinds {
		t.Run(kind, func(t *testing.T) {
			p := startRolePeer(t, kind)
			if err := bindUpdate(t, p.client("role-key"), "example.test.", "other.roles.example.test. 300 IN A 192.0.2.1"); err == nil {
				t.Fatal("the role key wrote a name beside its role record")
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// bindUpdate sends one signed UPDATE adding rrs with c's key.
func bindUpdate(t *testing.T, c *Client, zone string, rrs ...string) error {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate(zone)
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		m.Insert([]dns.RR{rr})
	}
	reply, err := c.exchange(context.Background(), c.Server, m, c.Clock.Now())
	if err != nil {
		return err
	}
	if reply.Rcode != dns.RcodeSuccess {
		return &rcodeError{dns.RcodeToString[reply.Rcode]}
	}
	return nil
}

type rcodeError struct{ s string }

func (e *rcodeError) Error() string { return strings.ToLower(e.s) }

// TestDocsShowTheRolePolicies keeps docs/dns.md's role record grants the
// ones the tests use.
func TestDocsShowTheRolePolicies(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "dns.md"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"BIND update-policy": "update-policy {\n" + RoleBindPolicy + "\n};", "Knot ACL": "acl:\n" + RoleKnotACL} {
		if !strings.Contains(string(b), text) {
			t.Errorf("docs/dns.md does not show the role record's %s the tests use:\n%s", what, text)
		}
	}
}
