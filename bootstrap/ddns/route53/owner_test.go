package route53

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func TestParseOwner(t *testing.T) {
	at := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want Owner
		ok   bool
	}{
		{`"heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z"`, Owner{InstanceID: "i-0abc", LaunchTime: at}, true},
		{`heritage=ec2boot,ec2boot/launch-time=2026-12-07T04:00:00Z,ec2boot/instance-id=i-0abc`, Owner{InstanceID: "i-0abc", LaunchTime: at}, true},
		{`"heritage=external-dns,external-dns/owner=default"`, Owner{}, false},
		{`"heritage=ec2boot,ec2boot/instance-id=i-0abc"`, Owner{}, false},
		{`"heritage=ec2boot,ec2boot/launch-time=2026-12-07T04:00:00Z"`, Owner{}, false},
		{`"v=spf1 -all"`, Owner{}, false},
		{``, Owner{}, false},
	}
	for _, tc := range cases {
		got, ok := ParseOwner(tc.in)
		if ok != tc.ok || !got.LaunchTime.Equal(tc.want.LaunchTime) || got.InstanceID != tc.want.InstanceID {
			t.Errorf("ParseOwner(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if d := cmp.Diff(`"heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z"`, ownerValue(Owner{InstanceID: "i-0abc", LaunchTime: at.In(time.FixedZone("x", 3600))})); d != "" {
		t.Errorf("Value (-want +got):\n%s", d)
	}
}

// FuzzParseOwner: any TXT value parses without panic, and what parses
// renders back to a value that parses to the same owner.
func FuzzParseOwner(f *testing.F) {
	f.Add(`"heritage=ec2boot,ec2boot/instance-id=i-0abc,ec2boot/launch-time=2026-12-07T04:00:00Z"`)
	f.Add(`"heritage=external-dns,external-dns/owner=x"`)
	f.Add(`"=,,=="`)
	f.Fuzz(func(t *testing.T, v string) {
		o, ok := ParseOwner(v)
		if !ok || strings.ContainsAny(o.InstanceID, `,"`) {
			return
		}
		back, ok := ParseOwner(ownerValue(o))
		if !ok || back.InstanceID != o.InstanceID || !back.LaunchTime.Equal(o.LaunchTime.Truncate(time.Second)) {
			t.Errorf("%q -> %+v -> %q -> %+v, %v", v, o, ownerValue(o), back, ok)
		}
	})
}

// FuzzClassifyDenied: any AccessDenied message gives a sticky result whose
// detail carries the message, and names action and resource only when the
// message does.
func FuzzClassifyDenied(f *testing.F) {
	f.Add("User: arn:aws:sts::1:assumed-role/r/i is not authorized to perform: route53:GetChange on resource: arn:aws:route53:::change/C1 because no identity-based policy allows it")
	f.Add("perform: on resource: ")
	f.Fuzz(func(t *testing.T, msg string) {
		r := classify(&smithy.GenericAPIError{Code: "AccessDenied", Message: msg}, false)
		if r.Class != Sticky || !r.Account || !strings.Contains(r.Detail, msg) {
			t.Errorf("%q: %+v", msg, r)
		}
		if !strings.Contains(msg, "perform: ") && !strings.Contains(r.Detail, "may not perform an action") {
			t.Errorf("%q: %+v", msg, r)
		}
	})
}
