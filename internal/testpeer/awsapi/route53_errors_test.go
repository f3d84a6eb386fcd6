package awsapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/google/go-cmp/cmp"
)

// TestChangeRefused sends bad batches through the SDK: each must fail
// with the API's error and leave the zone exactly as it was.
func TestChangeRefused(t *testing.T) {
	s, r53, _ := peer(t, Options{})
	z, _ := s.AddHostedZone("example.com", false)
	seed := changes(
		types.ChangeActionCreate, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1", "192.0.2.2"),
		types.ChangeActionCreate, multi(rrset("m.example.com", types.RRTypeA, 60, "192.0.2.1"), "one"),
		types.ChangeActionCreate, rrset("c.example.com", types.RRTypeCname, 60, "a.example.com"),
	)
	if _, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID), ChangeBatch: seed}); err != nil {
		t.Fatal(err)
	}
	before := listAll(t, r53, z.ID)
	good := rrset("new.example.com", types.RRTypeA, 60, "192.0.2.5")
	many := rrset("big.example.com", types.RRTypeA, 60)
	for i := 0; i < 501; i++ {
		many.ResourceRecords = append(many.ResourceRecords, types.ResourceRecord{Value: aws.String("192.0.2." + fmtInt(int64(i%250)))})
	}
	long := rrset("long.example.com", types.RRTypeTxt, 60)
	for i := 0; i < 130; i++ {
		long.ResourceRecords = append(long.ResourceRecords, types.ResourceRecord{Value: aws.String(`"` + strings.Repeat("x", 250) + `"`)})
	}
	tests := []struct {
		name     string
		zone     string
		batch    *types.ChangeBatch
		code     string
		messages []string // InvalidChangeBatch's messages
	}{
		{"create existing", z.ID, changes(types.ChangeActionCreate, good, types.ChangeActionCreate, rrset("A.example.com.", types.RRTypeA, 60, "192.0.2.9")),
			"InvalidChangeBatch", []string{"Tried to create resource record set [name='a.example.com.', type='A'] but it already exists"}},
		{"delete missing", z.ID, changes(types.ChangeActionCreate, good, types.ChangeActionDelete, rrset("b.example.com", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"Tried to delete resource record set [name='b.example.com.', type='A'] but it was not found"}},
		{"delete with other TTL", z.ID, changes(types.ChangeActionCreate, good, types.ChangeActionDelete, rrset("a.example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.2")),
			"InvalidChangeBatch", []string{"Tried to delete resource record set [name='a.example.com.', type='A'] but the values provided do not match the current values"}},
		{"delete with a value missing", z.ID, changes(types.ChangeActionCreate, good, types.ChangeActionDelete, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"Tried to delete resource record set [name='a.example.com.', type='A'] but the values provided do not match the current values"}},
		{"delete without the set identifier", z.ID, changes(types.ChangeActionDelete, rrset("m.example.com", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"Tried to delete resource record set [name='m.example.com.', type='A'] but it was not found"}},
		{"delete twice", z.ID, changes(types.ChangeActionDelete, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1", "192.0.2.2"), types.ChangeActionDelete, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1", "192.0.2.2")),
			"InvalidChangeBatch", []string{"Tried to delete resource record set [name='a.example.com.', type='A'] but it was not found"}},
		{"two failures, two messages", z.ID, changes(types.ChangeActionCreate, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1"), types.ChangeActionDelete, rrset("x.example.com", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"Tried to create resource record set [name='a.example.com.', type='A'] but it already exists", "Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found"}},
		{"outside the zone", z.ID, changes(types.ChangeActionCreate, rrset("a.example.org", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"RRSet with DNS name a.example.org. is not permitted in zone example.com."}},
		{"bad IPv4", z.ID, changes(types.ChangeActionUpsert, rrset("a.example.com", types.RRTypeA, 60, "2001:db8::1")),
			"InvalidChangeBatch", []string{"Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '2001:db8::1'"}},
		{"unquoted TXT", z.ID, changes(types.ChangeActionUpsert, rrset("t.example.com", types.RRTypeTxt, 60, "hello")),
			"InvalidChangeBatch", []string{"Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'hello'"}},
		{"CNAME beside A", z.ID, changes(types.ChangeActionCreate, rrset("c.example.com", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"RRSet of type A with DNS name c.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com."}},
		{"simple beside multivalue", z.ID, changes(types.ChangeActionCreate, rrset("m.example.com", types.RRTypeA, 60, "192.0.2.1")),
			"InvalidChangeBatch", []string{"RRSet with DNS name m.example.com., type A cannot be created because a multivalue answer rrset exists with the same name and type"}},
		{"upsert counts double: 1002 records", z.ID, changes(types.ChangeActionUpsert, many),
			"InvalidChangeBatch", []string{"Number of records limit of 1000 exceeded."}},
		{"over 32000 characters", z.ID, changes(types.ChangeActionCreate, long),
			"InvalidChangeBatch", []string{"Number of characters in values limit of 32000 exceeded."}},
		{"set identifier without routing", z.ID, changes(types.ChangeActionCreate, func() *types.ResourceRecordSet {
			r := rrset("s.example.com", types.RRTypeA, 60, "192.0.2.1")
			r.SetIdentifier = aws.String("x")
			return r
		}()), "InvalidInput", nil},
		{"multivalue without set identifier", z.ID, changes(types.ChangeActionCreate, func() *types.ResourceRecordSet {
			r := rrset("s.example.com", types.RRTypeA, 60, "192.0.2.1")
			r.MultiValueAnswer = aws.Bool(true)
			return r
		}()), "InvalidInput", nil},
		{"no TTL", z.ID, changes(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("n.example.com"), Type: types.RRTypeA, ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}), "InvalidInput", nil},
		{"no such zone", "ZNOSUCHZONE0000", changes(types.ChangeActionCreate, good), "NoSuchHostedZone", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(tt.zone), ChangeBatch: tt.batch})
			if got := code(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			var icb *types.InvalidChangeBatch
			if errors.As(err, &icb) {
				if d := cmp.Diff(tt.messages, icb.Messages); d != "" {
					t.Errorf("messages (-want +got):\n%s", d)
				}
			} else if tt.code == "InvalidChangeBatch" {
				t.Errorf("%T is not *types.InvalidChangeBatch", err)
			}
			var typed bool
			switch tt.code {
			case "InvalidInput":
				var e *types.InvalidInput
				typed = errors.As(err, &e)
			case "NoSuchHostedZone":
				var e *types.NoSuchHostedZone
				typed = errors.As(err, &e)
			default:
				typed = true
			}
			if !typed {
				t.Errorf("%T is not the SDK's typed %s", err, tt.code)
			}
			if d := cmp.Diff(before, listAll(t, r53, z.ID)); d != "" {
				t.Errorf("zone changed by a refused batch (-before +after):\n%s", d)
			}
		})
	}
}

// TestChangeBatchErrorShapes: both shapes Route 53 answers a refused
// batch with reach the SDK as *types.InvalidChangeBatch, the messages
// either in Messages or bracketed in Message.
func TestChangeBatchErrorShapes(t *testing.T) {
	for _, tt := range []struct {
		shape    ChangeBatchErrorShape
		message  string
		messages []string
	}{
		{OwnRoot, "ChangeBatch errors occurred", []string{"Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found", "Tried to delete resource record set [name='y.example.com.', type='A'] but it was not found"}},
		{InErrorResponse, "[Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found, Tried to delete resource record set [name='y.example.com.', type='A'] but it was not found]", nil},
	} {
		s, r53, _ := peer(t, Options{ChangeBatchErrors: tt.shape})
		z, _ := s.AddHostedZone("example.com", false)
		_, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID), ChangeBatch: changes(
			types.ChangeActionDelete, rrset("x.example.com", types.RRTypeA, 60, "192.0.2.1"),
			types.ChangeActionDelete, rrset("y.example.com", types.RRTypeA, 60, "192.0.2.1"))})
		var icb *types.InvalidChangeBatch
		if !errors.As(err, &icb) {
			t.Fatalf("shape %d: %v (%T), want *types.InvalidChangeBatch", tt.shape, err, err)
		}
		if d := cmp.Diff([]any{tt.message, tt.messages}, []any{aws.ToString(icb.Message), icb.Messages}); d != "" {
			t.Errorf("shape %d (-want +got):\n%s", tt.shape, d)
		}
	}
}
