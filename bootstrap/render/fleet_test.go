package render

import (
	"context"
	"net/netip"
	"testing"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
)

// A rendered file sees the fleet facts under the same names as a name
// template does.
func TestFleetFactsInTemplates(t *testing.T) {
	n := 2
	f := &facts.Facts{InstanceID: "i-0123456789abcdef0", LocalIPv4: netip.MustParseAddr("10.0.0.9"), LaunchIndex: &n,
		LifeCycle: "spot", TargetLifecycleState: "InService", TagsAvailable: true,
		Tags: map[string]string{"Name": "web-3", "aws:autoscaling:groupName": "web-asg"}}
	d := NewData(f, nil, nil)
	text := `{{ .Facts.ShortID }} {{ .Facts.LaunchIndex }} {{ .Facts.LifeCycle }} {{ .Facts.LocalIPv4Dashed }} ` +
		`{{ .Facts.TargetLifecycleState }} {{ .Facts.Tags.Name }} {{ index .Facts.Tags "aws:autoscaling:groupName" }}`
	got, err := Execute(context.Background(), "fleet.tmpl", text, d, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "9abcdef0 2 spot 10-0-0-9 InService web-3 web-asg"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := Execute(context.Background(), "fleet.tmpl", "{{ .Facts.Tags.Team }}", d, Limits{}); err == nil {
		t.Error("a missing tag rendered without an error")
	}
}
