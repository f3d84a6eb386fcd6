package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// TestRoleRecordRoute53EndToEnd: two instances publish themselves under
// one role record in Route 53 (a multivalue set of each, with the
// instance role's credentials from the metadata service), a run with
// nothing due costs no request at all, and `ec2boot stop` removes exactly
// the stopping instance's sets.
func TestRoleRecordRoute53EndToEnd(t *testing.T) {
	peer := awsapi.Start(t, awsapi.Options{})
	key := awsapi.Credentials{AccessKeyID: "ASIAE2EPUBLISH000001", SecretAccessKey: "e2e/publish/secret", Token: "e2e-publish-token"}
	peer.AddCredentials(key)
	zone, err := peer.AddHostedZone("example.test", false)
	if err != nil {
		t.Fatal(err)
	}
	userData := []byte(fmt.Sprintf(`[dns.accounts.aws]
provider = "route53"
zone_id = %q

[peers.discover.queue]
source = "dns"
record = "queue.roles.example.test"
publish = { account = "aws" }
`, zone.ID))
	type inst struct{ env, flags []string }
	var insts []inst
	for n := 1; n <= 2; n++ {
		imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData, Values: map[string]string{
			"instance-id": fmt.Sprintf("i-0e2e5p0000000000%d", n), "local-ipv4": fmt.Sprintf("10.4.0.%d", n)},
			Role: "ec2boot-e2e", RoleCredentials: aemm.RoleCredentials{AccessKeyID: key.AccessKeyID,
				SecretAccessKey: key.SecretAccessKey, Token: key.Token, Expiration: time.Now().Add(6 * time.Hour)}})
		root := t.TempDir()
		write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n")
		// The role record is resolved through a server that does not
		// answer: the role is then refused or stale, which is not what
		// this test is about (exit codes 0 to 4 are accepted below).
		write(t, root, "/etc/ec2boot/config.toml", "[imds]\ntimeout = \"3s\"\n[peers]\nnameserver = \"127.0.0.1:9\"\ntimeout = \"200ms\"\n")
		insts = append(insts, inst{
			env: []string{"AWS_ENDPOINT_URL_ROUTE_53=" + peer.URL, "HOME=" + root,
				"AWS_CONFIG_FILE=" + root + "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=" + root + "/nonexistent"},
			flags: []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}})
	}
	sets := func() []string {
		var out []string
		for _, r := range peer.Records(zone.ID) {
			if r.Type == "SOA" || r.Type == "NS" {
				continue
			}
			out = append(out, fmt.Sprintf("%s %s %s %v", r.Name, r.Type, r.SetIdentifier, r.MultiValueAnswer != nil && *r.MultiValueAnswer))
		}
		slices.Sort(out)
		return out
	}
	run := func(i int, args ...string) result {
		t.Helper()
		r := ec2bootEnv(t, insts[i].env, append(args, insts[i].flags...)...)
		if r.code != 0 && !(args[0] == "run" && r.code <= 4) {
			t.Fatalf("instance %d: %v exit %d\n%s", i+1, args, r.code, r.stderr)
		}
		return r
	}
	// A publish costs one List of the role record and one change batch.
	for i := range insts {
		before := peer.Counts()
		run(i, "run")
		after := peer.Counts()
		got := fmt.Sprintf("list=%d change=%d", after["route53:ListResourceRecordSets"]-before["route53:ListResourceRecordSets"],
			after["route53:ChangeResourceRecordSets"]-before["route53:ChangeResourceRecordSets"])
		if got != "list=1 change=1" {
			t.Errorf("instance %d's first run: %s, want list=1 change=1", i+1, got)
		}
	}
	want := []string{
		"_ec2boot-members.queue.roles.example.test. TXT i-0e2e5p00000000001 true", "_ec2boot-members.queue.roles.example.test. TXT i-0e2e5p00000000002 true",
		"queue.roles.example.test. A i-0e2e5p00000000001 true", "queue.roles.example.test. A i-0e2e5p00000000002 true"}
	if got := sets(); !slices.Equal(got, want) {
		t.Fatalf("sets after two runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	before := peer.Counts()
	run(0, "run")
	after := peer.Counts()
	for _, op := range []string{"route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"} {
		if after[op] != before[op] {
			t.Errorf("a run with nothing due: %d %s", after[op]-before[op], op)
		}
	}
	run(1, "stop")
	if got := sets(); !slices.Equal(got, []string{want[0], want[2]}) {
		t.Fatalf("sets after instance 2 stopped:\n%s", strings.Join(got, "\n"))
	}
}
