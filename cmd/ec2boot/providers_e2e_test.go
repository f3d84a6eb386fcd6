package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

// TestPrivateRoute53AndRFC2136InOneRun is the providers' goal: one run
// keeps the instance's internal name in a private Route 53 zone, with the
// instance role's credentials from the metadata service, and its external
// name in BIND through RFC 2136, with a TSIG key from a file on the image.
// The user-data holds no secret. A public zone of the same name exists
// too; the record must land in the private one. A second run sends
// nothing to either.
func TestPrivateRoute53AndRFC2136InOneRun(t *testing.T) {
	// BIND, primary for the public zone; web-key may change only the
	// external name and its ownership record.
	named := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"web-key"},
		UpdatePolicy: "grant web-key name web-7.example.test. A AAAA;\ngrant web-key name _ec2boot.web-7.example.test. TXT;"})
	// Route 53: a private and a public zone both called internal.example.test,
	// feeding a DNS server so that lookups see the private zone's records.
	internal := authdns.New("internal.example.test")
	if err := internal.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { internal.Close() })
	peer := awsapi.Start(t, awsapi.Options{Backend: internal})
	key := awsapi.Credentials{AccessKeyID: "ASIAE2EBOTH00000001", SecretAccessKey: "both/role/secret", Token: "both-role-token"}
	peer.AddCredentials(key)
	public, err := peer.AddHostedZone("internal.example.test", false)
	if err != nil {
		t.Fatal(err)
	}
	private, err := peer.AddHostedZone("internal.example.test", true)
	if err != nil {
		t.Fatal(err)
	}

	userData := []byte(fmt.Sprintf(`[dns]
check_server = %q

[dns.accounts.vpc]
provider = "route53"
zone = "internal.example.test"
private = true

[dns.accounts.corp]
provider = "rfc2136"
server = %q
zone = "example.test"
key_file = "/etc/ec2boot/web.key"

[[dns.records]]
name = "web-7.internal.example.test"
address = "local-ipv4"
account = "vpc"

[[dns.records]]
name = "web-7.example.test"
address = "public-ipv4"
account = "corp"
`, named.Addr, named.Addr))
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: userData, Values: map[string]string{
		"instance-id": "i-0b07400000000007", "local-ipv4": "10.1.0.7", "public-ipv4": "203.0.113.7"},
		Identity: map[string]any{"instanceId": "i-0b07400000000007", "pendingTime": "2026-12-07T04:00:00Z"},
		Role:     "ec2boot-both", RoleCredentials: aemm.RoleCredentials{AccessKeyID: key.AccessKeyID,
			SecretAccessKey: key.SecretAccessKey, Token: key.Token, Expiration: time.Now().Add(6 * time.Hour)}})
	root := t.TempDir()
	write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n")
	write(t, root, "/etc/ec2boot/config.toml", "[imds]\ntimeout = \"3s\"\n")
	keyFile := filepath.Join(root, "etc/ec2boot/web.key")
	write(t, root, "/etc/ec2boot/web.key", fmt.Sprintf("key \"web-key\" {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", named.Secrets["web-key"]))
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ENDPOINT_URL_ROUTE_53=" + peer.URL, "HOME=" + root,
		"AWS_CONFIG_FILE=" + root + "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=" + root + "/nonexistent"}
	flags := []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}

	first := ec2bootEnv(t, env, append([]string{"run"}, flags...)...)
	if first.code != 0 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	for name, want := range map[string]struct {
		lookup func(context.Context, string) ([]netip.Addr, error)
		addr   string
	}{
		"web-7.internal.example.test": {internal.Lookup, "10.1.0.7"},
		"web-7.example.test":          {named.Lookup, "203.0.113.7"},
	} {
		got, err := want.lookup(context.Background(), name)
		if err != nil || len(got) != 1 || got[0] != netip.MustParseAddr(want.addr) {
			t.Errorf("%s = %v (%v), want %s", name, got, err, want.addr)
		}
	}
	if sets := peer.Records(public.ID); hasName(sets, "web-7.internal.example.test.") {
		t.Errorf("the record went into the public zone: %v", sets)
	}
	if sets := peer.Records(private.ID); !hasName(sets, "web-7.internal.example.test.") || !hasName(sets, "_ec2boot.web-7.internal.example.test.") {
		t.Errorf("the private zone lacks the record or its ownership record: %v", sets)
	}

	// Nothing changed: no change batch, no UPDATE (BIND's serial stays).
	serial := soaSerial(t, named)
	changes := peer.Count(awsapi.Route53, "ChangeResourceRecordSets")
	second := ec2bootEnv(t, env, append([]string{"run"}, flags...)...)
	if second.code != 0 {
		t.Fatalf("second run: exit %d\n%s", second.code, second.stderr)
	}
	if n := peer.Count(awsapi.Route53, "ChangeResourceRecordSets"); n != changes {
		t.Errorf("the second run sent %d change batch(es) to Route 53", n-changes)
	}
	if s := soaSerial(t, named); s != serial {
		t.Errorf("the second run changed the BIND zone (serial %d -> %d)", serial, s)
	}
	for _, out := range []string{first.stdout, first.stderr, second.stdout, second.stderr} {
		for _, secret := range []string{key.SecretAccessKey, key.Token, named.Secrets["web-key"]} {
			if strings.Contains(out, secret) {
				t.Fatalf("a run printed a secret")
			}
		}
	}
}

func soaSerial(t *testing.T, s *bind.Server) uint32 {
	t.Helper()
	n, err := s.Serial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func hasName(sets []awsapi.RecordSet, name string) bool {
	for _, s := range sets {
		if strings.EqualFold(s.Name, name) {
			return true
		}
	}
	return false
}
