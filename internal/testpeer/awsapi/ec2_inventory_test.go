package awsapi

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAEMMConfig: the emulator configuration an inventory entry gives,
// and the entries the peer or the emulator cannot take.
func TestAEMMConfig(t *testing.T) {
	in := Instance{ID: "i-0123456789abcdef0", PrivateIP: netip.MustParseAddr("10.0.0.5"), AMILaunchIndex: 3,
		LaunchTime: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), Tags: []Tag{{"Role", "db"}}, Role: "r",
		Credentials: Credentials{"AKID", "SECRET", "TOKEN"}}
	c, err := in.AEMMConfig("eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.Values["instance-id"], c.Values["local-ipv4"], c.Values["ami-launch-index"], c.Values["placement-availability-zone"],
		c.Values["hostname"], c.Paths["public-ipv4"], c.Paths["tags-instance-name"], c.Values["tags-instance-name"], c.Paths["tags-instance-test"],
		c.Identity["pendingTime"].(string), c.Role, c.RoleCredentials.AccessKeyID + "/" + c.RoleCredentials.Token}
	want := []string{"i-0123456789abcdef0", "10.0.0.5", "3", "eu-west-1a", "ip-10-0-0-5.eu-west-1.compute.internal", "",
		"/latest/meta-data/tags/instance/Role", "db", "", "2026-05-01T08:00:00Z", "r", "AKID/TOKEN"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}

	bad := []struct {
		name string
		edit func(*Instance)
		want string
	}{
		{"three tags", func(i *Instance) { i.Tags = []Tag{{"a", "1"}, {"b", "2"}, {"c", "3"}} }, "at most two tags"},
		{"bad id", func(i *Instance) { i.ID = "i-xyz" }, "not i- and 8 or 17 hex digits"},
		{"bad state", func(i *Instance) { i.State = "sleeping" }, "unknown state"},
		{"no address", func(i *Instance) { i.PrivateIP = netip.Addr{} }, "private IPv4 address missing"},
	}
	s := Start(t, Options{})
	for _, b := range bad {
		i := in
		b.edit(&i)
		_, err1 := i.AEMMConfig("eu-west-1")
		err2 := s.SetInstances([]Instance{i})
		var msgs []string
		for _, e := range []error{err1, err2} {
			if e != nil {
				msgs = append(msgs, e.Error())
			}
		}
		if !strings.Contains(strings.Join(msgs, "|"), b.want) {
			t.Errorf("%s: %q, want an error with %q", b.name, msgs, b.want)
		}
	}
}
