package route53

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

const role = "queue.roles." + zoneName

var t0 = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

func mem(id, a string, at time.Time) member.Member {
	return member.Member{Role: "queue", InstanceID: id, Addr: netip.MustParseAddr(a), Refreshed: at}
}

// roster is the zone's member sets, one line each with the identifier.
func (w *world) roster() []string {
	var out []string
	for _, r := range w.peer.Records(w.zone.ID) {
		if r.Type == "SOA" || r.Type == "NS" {
			continue
		}
		mv := r.MultiValueAnswer != nil && *r.MultiValueAnswer
		out = append(out, fmt.Sprintf("%s %s %s mv=%v %s", r.Name, r.Type, r.SetIdentifier, mv, strings.Join(r.Values, " ")))
	}
	slices.Sort(out)
	return out
}

func aSet(id, a string) string { return role + ". A " + id + " mv=true " + a }
func txtSet(m member.Member) string {
	return member.TXTName(role) + " TXT " + m.InstanceID + ` mv=true "` + m.Value() + `"`
}

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

// TestRoleMembers: each member its own multivalue sets; a run within the
// refresh period sends no change; a stale member is pruned with exact
// DELETEs, a refreshed one survives a racing prune; a leaving member
// removes its own sets; sets that are not a member's are never touched.
func TestRoleMembers(t *testing.T) {
	w := newWorld(t, awsapi.Options{})
	reg := Members{C: w.client(t, nil)}
	sync := func(r member.Registry, me member.Member) member.Report {
		t.Helper()
		rep, err := member.Sync(ctx(t), r, role, me, member.RefreshEvery, member.StaleAfter)
		if err != nil {
			t.Fatalf("Sync(%s): %v", me.InstanceID, err)
		}
		return rep
	}
	// Someone else's multivalue set under the role, without a member TXT.
	_, err := w.other(t).ChangeResourceRecordSets(ctx(t), &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(w.zone.ID),
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
			Name: aws.String(role), Type: types.RRTypeA, TTL: aws.Int64(60), SetIdentifier: aws.String("manual"), MultiValueAnswer: aws.Bool(true),
			ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.99")}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	foreign := aSet("manual", "192.0.2.99")
	check := func(what string, want ...string) {
		t.Helper()
		want = append(want, foreign)
		slices.Sort(want)
		if d := cmp.Diff(want, w.roster()); d != "" {
			t.Fatalf("%s: sets (-want +got):\n%s", what, d)
		}
	}

	m1, m2, m3 := mem("i-1", "10.0.0.1", t0), mem("i-2", "10.0.0.2", t0), mem("i-3", "10.0.0.3", t0)
	for _, m := range []member.Member{m1, m2, m3} {
		sync(reg, m)
	}
	check("three published", aSet("i-1", "10.0.0.1"), aSet("i-2", "10.0.0.2"), aSet("i-3", "10.0.0.3"), txtSet(m1), txtSet(m2), txtSet(m3))

	changes := w.peer.Count(awsapi.Route53, "ChangeResourceRecordSets")
	if rep := sync(reg, mem("i-1", "10.0.0.1", t0.Add(5*time.Hour))); rep.Published {
		t.Fatal("published within the refresh period")
	}
	if n := w.peer.Count(awsapi.Route53, "ChangeResourceRecordSets"); n != changes {
		t.Fatalf("%d changes within the refresh period", n-changes)
	}

	// A new address replaces the member's set.
	m2b := mem("i-2", "10.0.0.22", t0.Add(time.Hour))
	if rep := sync(reg, m2b); !rep.Published {
		t.Fatal("a new address was not published")
	}
	m1c := mem("i-1", "10.0.0.1", t0.Add(20*time.Hour))
	sync(reg, m1c)

	// i-3 refreshes between i-2's read and its prune: the exact DELETE
	// fails, i-2 reads again and leaves i-3 alone.
	m3b := mem("i-3", "10.0.0.3", t0.Add(25*time.Hour))
	m2c := mem("i-2", "10.0.0.22", t0.Add(25*time.Hour))
	rep := sync(&raceOnPrune{Registry: reg, before: func() {
		other := Members{C: w.client(t, nil)}
		sync(other, m3b)
	}}, m2c)
	if len(rep.Pruned) != 0 || !slices.Equal(rep.Raced, []string{"i-3"}) {
		t.Fatalf("race: %+v, want i-3 raced and kept", rep)
	}
	check("lost race", aSet("i-1", "10.0.0.1"), aSet("i-2", "10.0.0.22"), aSet("i-3", "10.0.0.3"), txtSet(m1c), txtSet(m2c), txtSet(m3b))

	// Past 24 h, i-1 prunes the two that stopped refreshing.
	m1d := mem("i-1", "10.0.0.1", t0.Add(50*time.Hour))
	rep = sync(Members{C: w.client(t, nil)}, m1d)
	if len(rep.Pruned) != 2 {
		t.Fatalf("pruned %+v, want i-2 and i-3", rep.Pruned)
	}
	check("pruned", aSet("i-1", "10.0.0.1"), txtSet(m1d))

	left, err := member.Leave(ctx(t), Members{C: w.client(t, nil)}, role, "i-1")
	if err != nil || !left {
		t.Fatalf("Leave = %v, %v", left, err)
	}
	check("left")
}
