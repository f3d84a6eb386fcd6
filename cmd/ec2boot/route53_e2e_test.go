package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// The real binary registers names in Route 53 with the instance role's
// credentials from the metadata service it was pointed at, the records
// reach DNS, and a second run costs one List per name and no change.
func TestRoute53RunAndRerun(t *testing.T) {
	dnsSrv := authdns.New("example.test")
	if err := dnsSrv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dnsSrv.Close() })
	peer := awsapi.Start(t, awsapi.Options{Backend: dnsSrv})
	key := awsapi.Credentials{AccessKeyID: "ASIAE2EROLE000000001", SecretAccessKey: "e2e/role/secret", Token: "e2e-role-token"}
	peer.AddCredentials(key)
	zone, err := peer.AddHostedZone("example.test", false)
	if err != nil {
		t.Fatal(err)
	}
	userData := []byte(fmt.Sprintf(`
[dns.accounts.aws]
provider = "route53"
zone_id = %q

[[dns.records]]
name = "web-{{ .ShortID }}.example.test"
address = "public-ipv4"
account = "aws"

[[dns.records]]
name = "web-{{ .ShortID }}.internal.example.test"
address = "local-ipv4"
account = "aws"
`, zone.ID))
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData, Values: map[string]string{
		"instance-id": "i-0e2e5300000000001", "local-ipv4": "10.1.0.53", "public-ipv4": "203.0.113.53"},
		Identity: map[string]any{"instanceId": "i-0e2e5300000000001", "pendingTime": "2026-12-07T03:00:00Z"},
		Role:     "ec2boot-e2e", RoleCredentials: aemm.RoleCredentials{AccessKeyID: key.AccessKeyID,
			SecretAccessKey: key.SecretAccessKey, Token: key.Token, Expiration: time.Now().Add(6 * time.Hour)}})
	root := t.TempDir()
	write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n")
	write(t, root, "/etc/ec2boot/config.toml", "[imds]\ntimeout = \"3s\"\n")
	env := []string{"AWS_ENDPOINT_URL_ROUTE_53=" + peer.URL, "HOME=" + root,
		"AWS_CONFIG_FILE=" + root + "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=" + root + "/nonexistent"}
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}

	plan := ec2bootEnv(t, env, append([]string{"plan"}, flags...)...)
	for _, want := range []string{"POST /2013-04-01/hostedzone/" + zone.ID + "/rrset",
		"CREATE web-00000001.example.test. 300 A 203.0.113.53", "CREATE web-00000001.internal.example.test. 300 A 10.1.0.53",
		`CREATE _ec2boot.web-00000001.example.test. 300 TXT "heritage=ec2boot,ec2boot/instance-id=i-0e2e5300000000001,ec2boot/launch-time=2026-12-07T03:00:00Z"`} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s\n%s", want, plan.stdout, plan.stderr)
		}
	}
	if peer.Count(awsapi.Route53, "ChangeResourceRecordSets") != 0 {
		t.Errorf("plan changed something")
	}
	for run, want := range []string{"list=2 change=1", "list=2 change=0"} {
		before := peer.Counts()
		r := ec2bootEnv(t, env, append([]string{"run"}, flags...)...)
		if r.code != 0 {
			t.Fatalf("run %d: exit %d\n%s", run+1, r.code, r.stderr)
		}
		after := peer.Counts()
		got := fmt.Sprintf("list=%d change=%d", after["route53:ListResourceRecordSets"]-before["route53:ListResourceRecordSets"],
			after["route53:ChangeResourceRecordSets"]-before["route53:ChangeResourceRecordSets"])
		if got != want {
			t.Errorf("run %d: %s, want %s", run+1, got, want)
		}
		for _, out := range []string{r.stdout, r.stderr, plan.stdout, plan.stderr} {
			if strings.Contains(out, key.SecretAccessKey) || strings.Contains(out, key.Token) {
				t.Fatalf("run %d printed the role's credentials", run+1)
			}
		}
	}
	for name, want := range map[string]string{"web-00000001.example.test": "203.0.113.53", "web-00000001.internal.example.test": "10.1.0.53"} {
		a, err := dnsSrv.Lookup(context.Background(), name)
		if err != nil || len(a) != 1 || a[0] != netip.MustParseAddr(want) {
			t.Errorf("DNS: %s = %v (%v), want %s", name, a, err, want)
		}
	}
}
