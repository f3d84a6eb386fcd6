package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"
)

// TestAWSPeer: a change through the Route 53 peer is answered by the DNS
// server, and only the key in the key file is accepted.
func TestAWSPeer(t *testing.T) {
	dir := t.TempDir()
	pw, keys := filepath.Join(dir, "pw"), filepath.Join(dir, "aws-key")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, []byte("AKIADEMO0000000001 demo/secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw2 := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-http", "127.0.0.1:0", "-dns", "127.0.0.1:0", "-password-file", pw, "-aws", "127.0.0.1:0", "-aws-key-file", keys}, pw2, io.Discard)
		pw2.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	fields := map[string]string{}
	for _, f := range strings.Fields(line)[1:] {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	client := func(secret string) *route53.Client {
		return route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String(fields["aws"]), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKIADEMO0000000001", secret, "")})
	}
	in := &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(fields["zone-id"]), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{
		Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String("web.example.test"), Type: types.RRTypeA,
			TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.7")}}}}}}}
	if _, err := client("wrong").ChangeResourceRecordSets(ctx, in); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := client("demo/secret").ChangeResourceRecordSets(ctx, in); err != nil {
		t.Fatalf("change (ready line %q): %v", line, err)
	}
	m := new(dns.Msg)
	m.SetQuestion("web.example.test.", dns.TypeA)
	r, err := dns.Exchange(m, fields["dns"])
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.7" {
		t.Fatalf("DNS answer %v, %v", r, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAWSKeyFile(t *testing.T) {
	dir := t.TempDir()
	pw, keys := filepath.Join(dir, "pw"), filepath.Join(dir, "aws-key")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	os.WriteFile(keys, []byte("only-one-field\n"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-aws", "127.0.0.1:0"}, "-aws needs -aws-key-file"},
		{[]string{"-aws", "127.0.0.1:0", "-aws-key-file", keys}, "first line must be"},
	} {
		args := append([]string{"-http", "127.0.0.1:0", "-dns", "127.0.0.1:0", "-password-file", pw}, tt.args...)
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}
