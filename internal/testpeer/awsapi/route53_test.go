package awsapi

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"
)

func rrset(name string, typ types.RRType, ttl int64, values ...string) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func multi(rs *types.ResourceRecordSet, id string) *types.ResourceRecordSet {
	rs.SetIdentifier, rs.MultiValueAnswer = aws.String(id), aws.Bool(true)
	return rs
}

func changes(pairs ...any) *types.ChangeBatch {
	b := &types.ChangeBatch{}
	for i := 0; i < len(pairs); i += 2 {
		b.Changes = append(b.Changes, types.Change{Action: pairs[i].(types.ChangeAction), ResourceRecordSet: pairs[i+1].(*types.ResourceRecordSet)})
	}
	return b
}

// summary is a record set as one line per set, for comparisons.
func summary(sets []types.ResourceRecordSet) []string {
	var out []string
	for _, s := range sets {
		line := aws.ToString(s.Name) + " " + string(s.Type)
		if s.SetIdentifier != nil {
			line += " id=" + *s.SetIdentifier
		}
		if s.TTL != nil {
			line += " ttl=" + itoa(*s.TTL)
		}
		for _, r := range s.ResourceRecords {
			line += " " + aws.ToString(r.Value)
		}
		out = append(out, line)
	}
	return out
}

func itoa(n int64) string { return fmtInt(n) }

func listAll(t *testing.T, c *route53.Client, zoneID string) []string {
	t.Helper()
	var all []types.ResourceRecordSet
	p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.ResourceRecordSets...)
	}
	var out []string
	for _, l := range summary(all) {
		if !contains([]string{"SOA", "NS"}, fieldType(l)) {
			out = append(out, l)
		}
	}
	return out
}

// TestChangeThenList runs batches in order through the SDK and lists the
// zone after each.
func TestChangeThenList(t *testing.T) {
	s, r53, _ := peer(t, Options{})
	z, err := s.AddHostedZone("Fleet.Example.COM", false)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		batch *types.ChangeBatch
		want  []string
	}{
		{"create, names normalised", changes(
			types.ChangeActionCreate, rrset("web.fleet.example.com", types.RRTypeA, 60, "192.0.2.1"),
			types.ChangeActionCreate, multi(rrset("peers.fleet.example.com.", types.RRTypeA, 60, "192.0.2.1"), "i-0000000000000000a"),
			types.ChangeActionCreate, multi(rrset("PEERS.fleet.example.com.", types.RRTypeA, 60, "192.0.2.2"), "i-0000000000000000b"),
			types.ChangeActionCreate, rrset("*.Fleet.Example.com", types.RRTypeTxt, 300, `"hello world"`),
			types.ChangeActionCreate, rrset("a.b.fleet.example.com", types.RRTypeAaaa, 60, "2001:db8::1"),
		), []string{
			`\052.fleet.example.com. TXT ttl=300 "hello world"`,
			`a.b.fleet.example.com. AAAA ttl=60 2001:db8::1`,
			`peers.fleet.example.com. A id=i-0000000000000000a ttl=60 192.0.2.1`,
			`peers.fleet.example.com. A id=i-0000000000000000b ttl=60 192.0.2.2`,
			`web.fleet.example.com. A ttl=60 192.0.2.1`,
		}},
		{"upsert replaces, delete by escaped name", changes(
			types.ChangeActionUpsert, rrset("web.fleet.example.com.", types.RRTypeA, 120, "192.0.2.9", "192.0.2.8"),
			types.ChangeActionDelete, rrset(`\052.FLEET.example.com.`, types.RRTypeTxt, 300, `"hello world"`),
		), []string{
			`a.b.fleet.example.com. AAAA ttl=60 2001:db8::1`,
			`peers.fleet.example.com. A id=i-0000000000000000a ttl=60 192.0.2.1`,
			`peers.fleet.example.com. A id=i-0000000000000000b ttl=60 192.0.2.2`,
			`web.fleet.example.com. A ttl=120 192.0.2.9 192.0.2.8`,
		}},
		{"delete (values in any order) + create is a swap", changes(
			types.ChangeActionDelete, rrset("web.fleet.example.com.", types.RRTypeA, 120, "192.0.2.8", "192.0.2.9"),
			types.ChangeActionCreate, rrset("web.fleet.example.com.", types.RRTypeA, 60, "192.0.2.7"),
			types.ChangeActionDelete, multi(rrset("peers.fleet.example.com.", types.RRTypeA, 60, "192.0.2.2"), "i-0000000000000000b"),
		), []string{
			`a.b.fleet.example.com. AAAA ttl=60 2001:db8::1`,
			`peers.fleet.example.com. A id=i-0000000000000000a ttl=60 192.0.2.1`,
			`web.fleet.example.com. A ttl=60 192.0.2.7`,
		}},
	}
	for _, st := range steps {
		out, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID), ChangeBatch: st.batch})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := aws.ToString(out.ChangeInfo.Id); !strings.HasPrefix(got, "/change/C") || out.ChangeInfo.Status != types.ChangeStatusInsync {
			t.Errorf("%s: change info %q %s", st.name, got, out.ChangeInfo.Status)
		}
		if d := cmp.Diff(st.want, listAll(t, r53, z.ID)); d != "" {
			t.Errorf("%s: records (-want +got):\n%s", st.name, d)
		}
	}
	if n := s.Count(Route53, "ChangeResourceRecordSets"); n != len(steps) {
		t.Errorf("%d change requests counted, want %d", n, len(steps))
	}
}
