package awsapi

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/google/go-cmp/cmp"
)

// TestListPaging fills a zone past two pages and reads it back with the
// SDK's paginator: 300 sets a page, in reversed-label order, nothing lost.
func TestListPaging(t *testing.T) {
	s, r53, _ := peer(t, Options{})
	z, _ := s.AddHostedZone("example.com", false)
	var want []string
	for b := 0; b < 7; b++ {
		batch := &types.ChangeBatch{}
		for i := 0; i < 100; i++ {
			n := b*100 + i
			name := fmt.Sprintf("h%03d.%c.example.com", n, 'a'+rune(n%3))
			batch.Changes = append(batch.Changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: multi(rrset(name, types.RRTypeA, 60, "192.0.2.1"), fmt.Sprintf("id%03d", n))})
			want = append(want, fmt.Sprintf("%s. A id=id%03d ttl=60 192.0.2.1", name, n))
		}
		if _, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID), ChangeBatch: batch}); err != nil {
			t.Fatal(err)
		}
	}
	// Reversed labels: every name under a. before b. before c.
	slices.SortFunc(want, func(x, y string) int { return cmpInt(int(x[5]), int(y[5]))*1000 + cmpStr(x, y) })
	before := s.Count(Route53, "ListResourceRecordSets")
	if d := cmp.Diff(want, listAll(t, r53, z.ID)); d != "" {
		t.Errorf("listing (-want +got):\n%s", d)
	}
	if n := s.Count(Route53, "ListResourceRecordSets") - before; n != 3 {
		t.Errorf("%d pages for 702 sets, want 3", n)
	}

	// Starting at a name, type and identifier, with a small page.
	out, err := r53.ListResourceRecordSets(ctx(t), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z.ID),
		StartRecordName: aws.String("H001.b.Example.com"), StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("id001"), MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	got := summary(out.ResourceRecordSets)
	got = append(got, fmt.Sprint(out.IsTruncated, " ", aws.ToString(out.NextRecordName), " ", out.NextRecordType, " ", aws.ToString(out.NextRecordIdentifier), " ", aws.ToInt32(out.MaxItems)))
	wantPage := []string{"h001.b.example.com. A id=id001 ttl=60 192.0.2.1", "h004.b.example.com. A id=id004 ttl=60 192.0.2.1", "true h007.b.example.com. A id007 2"}
	if d := cmp.Diff(wantPage, got); d != "" {
		t.Errorf("page (-want +got):\n%s", d)
	}

	_, err = r53.ListResourceRecordSets(ctx(t), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z.ID), StartRecordType: types.RRTypeA})
	var in *types.InvalidInput
	if !errors.As(err, &in) {
		t.Errorf("type without name: %v, want InvalidInput", err)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestZones: a public and a private zone of one name, found by name in
// order, and GetHostedZone telling them apart.
func TestZones(t *testing.T) {
	s, r53, _ := peer(t, Options{})
	pub, _ := s.AddHostedZone("fleet.example.com", false)
	priv, _ := s.AddHostedZone("fleet.example.com.", true)
	other, _ := s.AddHostedZone("example.org", false)
	under, _ := s.AddHostedZone("a.fleet.example.com", false)
	ids := []string{pub.ID, priv.ID}
	slices.Sort(ids)

	out, err := r53.ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{DNSName: aws.String("Fleet.Example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, z := range out.HostedZones {
		got = append(got, fmt.Sprintf("%s %s private=%v sets=%d", aws.ToString(z.Id), aws.ToString(z.Name), z.Config.PrivateZone, aws.ToInt64(z.ResourceRecordSetCount)))
	}
	want := []string{
		"/hostedzone/" + ids[0] + " fleet.example.com. private=" + fmt.Sprint(ids[0] == priv.ID) + " sets=2",
		"/hostedzone/" + ids[1] + " fleet.example.com. private=" + fmt.Sprint(ids[1] == priv.ID) + " sets=2",
		"/hostedzone/" + under.ID + " a.fleet.example.com. private=false sets=2",
		"/hostedzone/" + other.ID + " example.org. private=false sets=2",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("zones by name (-want +got):\n%s", d)
	}

	page, err := r53.ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{DNSName: aws.String("fleet.example.com"), HostedZoneId: aws.String(ids[1]), MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.HostedZones) != 1 || aws.ToString(page.HostedZones[0].Id) != "/hostedzone/"+ids[1] || !page.IsTruncated ||
		aws.ToString(page.NextDNSName) != "a.fleet.example.com." || aws.ToString(page.NextHostedZoneId) != under.ID {
		t.Errorf("second page: %+v", page)
	}

	for _, z := range []HostedZone{pub, priv} {
		g, err := r53.GetHostedZone(ctx(t), &route53.GetHostedZoneInput{Id: aws.String(z.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if g.HostedZone.Config.PrivateZone != z.Private || (g.DelegationSet == nil) != z.Private || (len(g.VPCs) == 0) == z.Private {
			t.Errorf("zone %s private=%v: config %v, delegation set %v, VPCs %v", z.ID, z.Private, g.HostedZone.Config.PrivateZone, g.DelegationSet, g.VPCs)
		}
	}
	_, err = r53.GetHostedZone(ctx(t), &route53.GetHostedZoneInput{Id: aws.String("ZNONE")})
	var nz *types.NoSuchHostedZone
	if !errors.As(err, &nz) {
		t.Errorf("unknown zone: %v, want NoSuchHostedZone", err)
	}
}

// TestChangeStatus: PENDING until the configured delay has passed on the
// peer's clock, then INSYNC; the SDK takes both ID forms.
func TestChangeStatus(t *testing.T) {
	fake := clock.NewFake(time.Now())
	s, r53, _ := peer(t, Options{Clock: fake, ChangeDelay: 30 * time.Second})
	z, _ := s.AddHostedZone("example.com", false)
	c, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID),
		ChangeBatch: changes(types.ChangeActionCreate, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1"))})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		id      string
		want    types.ChangeStatus
	}{
		{0, aws.ToString(c.ChangeInfo.Id), types.ChangeStatusPending},
		{29 * time.Second, aws.ToString(c.ChangeInfo.Id)[len("/change/"):], types.ChangeStatusPending},
		{time.Second, aws.ToString(c.ChangeInfo.Id), types.ChangeStatusInsync},
	}
	if c.ChangeInfo.Status != types.ChangeStatusPending {
		t.Errorf("change answered %s, want PENDING", c.ChangeInfo.Status)
	}
	for _, st := range steps {
		fake.Advance(st.advance)
		g, err := r53.GetChange(ctx(t), &route53.GetChangeInput{Id: aws.String(st.id)})
		if err != nil {
			t.Fatal(err)
		}
		if g.ChangeInfo.Status != st.want {
			t.Errorf("after %s more: %s, want %s", st.advance, g.ChangeInfo.Status, st.want)
		}
	}
	_, err = r53.GetChange(ctx(t), &route53.GetChangeInput{Id: aws.String("CNOSUCH")})
	var nc *types.NoSuchChange
	if !errors.As(err, &nc) {
		t.Errorf("unknown change: %v, want NoSuchChange", err)
	}
}
