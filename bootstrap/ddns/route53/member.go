package route53

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
)

// In Route 53 each member of a role record has record sets of its own,
// told apart by SetIdentifier = its instance-id under multivalue answer
// routing: its address at the record, and its member TXT at
// member.TXTName(record). A member changes only its own sets; every
// change DELETEs exactly the values it read, so a set changed meanwhile
// makes the whole batch fail (InvalidChangeBatch) and nothing is
// overwritten.

// maxRosterPages bounds the pages read for one role record: 300 sets per
// page, two per member.
const maxRosterPages = 20

// Roster is a role record as the API holds it.
type Roster struct {
	Record  string
	zone    string
	Members []member.Member
	addr    map[string][]types.ResourceRecordSet // SetIdentifier -> its A/AAAA sets
	txt     map[string]types.ResourceRecordSet   // SetIdentifier -> its member TXT
}

// List implements member.Roster.
func (r *Roster) List() []member.Member { return r.Members }

// Members puts a client behind member.Registry.
type Members struct{ C *Client }

var _ member.Registry = Members{}

// Read implements member.Registry: ListResourceRecordSets from the record
// on, through its member TXT sets.
func (m Members) Read(ctx context.Context, record string) (member.Roster, error) {
	c := m.C
	zone, err := c.Zone(ctx)
	if err != nil {
		return nil, err
	}
	n, tn := fqdn(record), member.TXTName(record)
	r := &Roster{Record: n, zone: zone, addr: map[string][]types.ResourceRecordSet{}, txt: map[string]types.ResourceRecordSet{}}
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String(n)}
	for page := 0; page < maxRosterPages; page++ {
		cctx, cancel := c.callCtx(ctx)
		out, err := c.api.ListResourceRecordSets(cctx, in)
		cancel()
		if err != nil {
			return nil, &CallError{Op: "ListResourceRecordSets", Zone: zone, Err: err}
		}
		for _, rs := range out.ResourceRecordSets {
			got := strings.ToLower(aws.ToString(rs.Name))
			if got != n && !strings.HasSuffix(got, "."+n) {
				return r, nil
			}
			id := aws.ToString(rs.SetIdentifier)
			if id == "" || rs.MultiValueAnswer == nil || !*rs.MultiValueAnswer {
				continue // not a member's set
			}
			switch {
			case got == n && (rs.Type == types.RRTypeA || rs.Type == types.RRTypeAaaa):
				r.addr[id] = append(r.addr[id], rs)
			case got == tn && rs.Type == types.RRTypeTxt:
				for _, v := range rs.ResourceRecords {
					if mm, ok := member.Parse(strings.Trim(aws.ToString(v.Value), `"`)); ok && mm.InstanceID == id {
						r.txt[id] = rs
						r.Members = append(r.Members, mm)
						break
					}
				}
			}
		}
		if !out.IsTruncated {
			return r, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	return nil, &CallError{Op: "ListResourceRecordSets", Zone: zone,
		Err: fmt.Errorf("more than %d pages of records at and below %s", maxRosterPages, n)}
}

// Publish implements member.Registry: me's address set and TXT set,
// replacing exactly the ones read.
func (m Members) Publish(ctx context.Context, ro member.Roster, me member.Member) error {
	r := ro.(*Roster)
	id := me.InstanceID
	typ := types.RRTypeA
	if !me.Addr.Is4() {
		typ = types.RRTypeAaaa
	}
	want := m.set(r.Record, typ, id, me.Addr.String())
	var ch []types.Change
	for _, old := range r.addr[id] {
		if old.Type == typ && sameValues(&old, want) {
			want = nil
			continue
		}
		ch = append(ch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &old})
	}
	if want != nil {
		ch = append(ch, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: want})
	}
	if old, ok := r.txt[id]; ok {
		ch = append(ch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &old})
	}
	ch = append(ch, types.Change{Action: types.ChangeActionCreate,
		ResourceRecordSet: m.set(member.TXTName(r.Record), types.RRTypeTxt, id, `"`+me.Value()+`"`)})
	return m.change(ctx, r, id, ch)
}

// Withdraw implements member.Registry.
func (m Members) Withdraw(ctx context.Context, ro member.Roster, instance string) error {
	return m.remove(ctx, ro.(*Roster), instance)
}

// Prune implements member.Registry: the exact DELETEs fail together when
// the member refreshed since the read.
func (m Members) Prune(ctx context.Context, ro member.Roster, stale member.Member) error {
	err := m.remove(ctx, ro.(*Roster), stale.InstanceID)
	var icb *types.InvalidChangeBatch
	if errors.As(err, &icb) {
		return fmt.Errorf("%w: %v", member.ErrRaced, err)
	}
	return err
}

func (m Members) remove(ctx context.Context, r *Roster, id string) error {
	var ch []types.Change
	for _, old := range r.addr[id] {
		ch = append(ch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &old})
	}
	if old, ok := r.txt[id]; ok {
		ch = append(ch, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &old})
	}
	if len(ch) == 0 {
		return nil
	}
	return m.change(ctx, r, id, ch)
}

func (m Members) set(name string, typ types.RRType, id, value string) *types.ResourceRecordSet {
	return &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(m.C.cfg.TTL),
		SetIdentifier: aws.String(id), MultiValueAnswer: aws.Bool(true),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}}}
}

func (m Members) change(ctx context.Context, r *Roster, id string, ch []types.Change) error {
	cctx, cancel := m.C.callCtx(ctx)
	defer cancel()
	_, err := m.C.api.ChangeResourceRecordSets(cctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(r.zone),
		ChangeBatch:  &types.ChangeBatch{Comment: aws.String("ec2boot role member " + id), Changes: ch},
	})
	if err != nil {
		return &CallError{Op: "ChangeResourceRecordSets", Zone: r.zone, Err: err}
	}
	return nil
}
