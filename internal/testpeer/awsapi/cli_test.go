package awsapi

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// CLIEnv may name the AWS command line client to use instead of the one
// on PATH.
const CLIEnv = "EC2BOOT_TEST_AWSCLI"

// awsCLI runs the AWS command line client (botocore: an implementation
// independent of the Go SDK) against the peer with key c.
func awsCLI(t *testing.T, s *Server, c Credentials, args ...string) (string, string, error) {
	t.Helper()
	bin := os.Getenv(CLIEnv)
	if bin == "" {
		bin = testenv.Tool(t, "aws", "install Debian's awscli package")
	}
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID="+c.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey, "AWS_SESSION_TOKEN="+c.Token,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Some releases ignore AWS_ENDPOINT_URL*: give the endpoint explicitly.
	cmd := exec.CommandContext(ctx, bin, append(args, "--endpoint-url", s.URL, "--region", "us-east-1", "--output", "json")...)
	cmd.Env = env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// TestAWSCLI checks the peer from a second, independent client: the
// same operations through botocore (which sends rrset/ with a trailing
// slash) must work, and its errors must carry the API's codes. botocore
// reads InvalidChangeBatch only in the ErrorResponse shape.
func TestAWSCLI(t *testing.T) {
	s := Start(t, Options{ChangeBatchErrors: InErrorResponse})
	s.AddCredentials(testKey)
	z, _ := s.AddHostedZone("fleet.example.com", false)
	if err := s.SetInstances(fleet(3)); err != nil {
		t.Fatal(err)
	}
	batch := func(action, value string) string {
		return `{"Changes":[{"Action":"` + action + `","ResourceRecordSet":{"Name":"peers.fleet.example.com","Type":"A","SetIdentifier":"i-1","MultiValueAnswer":true,"TTL":60,"ResourceRecords":[{"Value":"` + value + `"}]}}]}`
	}
	wrong := Credentials{testKey.AccessKeyID, "wrong", testKey.Token}
	tests := []struct {
		name  string
		creds Credentials
		args  []string
		ok    bool
		want  string // in stdout when ok, in stderr otherwise
	}{
		{"create", testKey, []string{"route53", "change-resource-record-sets", "--hosted-zone-id", z.ID, "--change-batch", batch("CREATE", "192.0.2.1")}, true, `"Status": "INSYNC"`},
		{"create again", testKey, []string{"route53", "change-resource-record-sets", "--hosted-zone-id", z.ID, "--change-batch", batch("CREATE", "192.0.2.1")}, false, "InvalidChangeBatch"},
		{"delete with stale value", testKey, []string{"route53", "change-resource-record-sets", "--hosted-zone-id", z.ID, "--change-batch", batch("DELETE", "192.0.2.9")}, false, "do not match the current values"},
		{"zone by name", testKey, []string{"route53", "list-hosted-zones-by-name", "--dns-name", "fleet.example.com"}, true, `"Id": "/hostedzone/` + z.ID + `"`},
		{"get zone", testKey, []string{"route53", "get-hosted-zone", "--id", z.ID}, true, `"PrivateZone": false`},
		{"no such zone", testKey, []string{"route53", "get-hosted-zone", "--id", "ZNONE"}, false, "NoSuchHostedZone"},
		{"wrong secret", wrong, []string{"route53", "list-hosted-zones-by-name"}, false, "SignatureDoesNotMatch"},
		{"describe by tag", testKey, []string{"ec2", "describe-instances", "--filters", "Name=tag:Name,Values=node-2", "Name=instance-state-name,Values=running"}, true, `"InstanceId": "i-00000000000000002"`},
		{"describe bad filter", testKey, []string{"ec2", "describe-instances", "--filters", "Name=colour,Values=red"}, false, "InvalidParameterValue"},
		{"ec2 wrong secret", wrong, []string{"ec2", "describe-instances"}, false, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		out, errOut, err := awsCLI(t, s, tt.creds, tt.args...)
		if (err == nil) != tt.ok {
			t.Fatalf("%s: err %v\nstdout %s\nstderr %s", tt.name, err, out, errOut)
		}
		got := out
		if !tt.ok {
			got = errOut
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s: want %q in\n%s", tt.name, tt.want, got)
		}
	}

	out, errOut, err := awsCLI(t, s, testKey, "route53", "list-resource-record-sets", "--hosted-zone-id", z.ID)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, errOut)
	}
	var list struct {
		ResourceRecordSets []struct {
			Name, Type, SetIdentifier string
			MultiValueAnswer          bool
			TTL                       int64
			ResourceRecords           []struct{ Value string }
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list output: %v\n%s", err, out)
	}
	var got []string
	for _, r := range list.ResourceRecordSets {
		got = append(got, r.Name+" "+r.Type+" "+r.SetIdentifier+" "+fmtInt(r.TTL))
	}
	want := []string{"fleet.example.com. NS  172800", "fleet.example.com. SOA  900", "peers.fleet.example.com. A i-1 60"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("list through the CLI (-want +got):\n%s", d)
	}
	if n := s.Count(Route53, "ChangeResourceRecordSets"); n != 3 {
		t.Errorf("%d change requests, want 3", n)
	}
}
