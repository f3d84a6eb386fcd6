package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/ec2boot/ec2boot/bootstrap/clock"
)

// TestSignatureRejected signs with the real SDK clients and something
// wrong each time; both services must refuse with their own code.
func TestSignatureRejected(t *testing.T) {
	fake := clock.NewFake(time.Now())
	tests := []struct {
		name       string
		creds      Credentials
		region     string        // client region ("" us-east-1)
		skew       time.Duration // peer clock ahead of the client
		r53, ec2   string        // expected codes
		ec2Message string
	}{
		{name: "right key", creds: testKey},
		{name: "wrong secret", creds: Credentials{testKey.AccessKeyID, "not-the-secret", testKey.Token}, r53: "SignatureDoesNotMatch", ec2: "SignatureDoesNotMatch"},
		{name: "unknown key", creds: Credentials{"AKIAUNKNOWN000000000", testKey.SecretAccessKey, testKey.Token}, r53: "InvalidClientTokenId", ec2: "AuthFailure"},
		{name: "session token missing", creds: Credentials{testKey.AccessKeyID, testKey.SecretAccessKey, ""}, r53: "InvalidClientTokenId", ec2: "AuthFailure"},
		{name: "wrong session token", creds: Credentials{testKey.AccessKeyID, testKey.SecretAccessKey, "other"}, r53: "InvalidClientTokenId", ec2: "AuthFailure"},
		{name: "wrong region in scope", creds: testKey, region: "eu-west-1", r53: "SignatureDoesNotMatch", ec2: "SignatureDoesNotMatch"},
		{name: "clock 6 minutes apart", creds: testKey, skew: 6 * time.Minute, r53: "SignatureDoesNotMatch", ec2: "RequestExpired"},
		{name: "clock 4 minutes apart", creds: testKey, skew: -4 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Options{Clock: fake})
			s.AddCredentials(testKey)
			cfg := sdkConfig(t, s, tt.creds)
			if tt.region != "" {
				cfg.Region = tt.region
			}
			fake.Set(time.Now().Add(tt.skew))
			_, err := route53.NewFromConfig(cfg, noRetry53).ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{})
			if got := code(err); got != tt.r53 {
				t.Errorf("route53: code %q (%v), want %q", got, err, tt.r53)
			}
			_, err = ec2.NewFromConfig(cfg, noRetryEC2).DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
			if got := code(err); got != tt.ec2 {
				t.Errorf("ec2: code %q (%v), want %q", got, err, tt.ec2)
			}
			if n := s.Count(Route53, "ListHostedZonesByName") + s.Count(EC2, "DescribeInstances"); n != 2 {
				t.Errorf("%d requests counted, want 2 (refused ones count too)", n)
			}
		})
	}
}

// TestTamperedRequest signs a request with the SDK's signer, then changes
// one thing the signature covers.
func TestTamperedRequest(t *testing.T) {
	s := Start(t, Options{})
	s.AddCredentials(testKey)
	z, _ := s.AddHostedZone("example.com", false)
	body := `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	tests := []struct {
		name    string
		service string
		tamper  func(r *http.Request)
		status  int
		code    string
	}{
		{"untouched", "route53", func(*http.Request) {}, 200, ""},
		{"body changed", "route53", func(r *http.Request) { setBody(r, strings.Replace(body, "192.0.2.1", "192.0.2.2", 1)) }, 403, "SignatureDoesNotMatch"},
		{"path changed", "route53", func(r *http.Request) { r.URL.Path += "/" }, 403, "SignatureDoesNotMatch"},
		{"signed header changed", "route53", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, 403, "SignatureDoesNotMatch"},
		{"content hash header lies", "route53", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) }, 403, "SignatureDoesNotMatch"},
		{"signature flipped", "route53", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+map[bool]string{true: "1", false: "0"}[a[len(a)-1] == '0'])
		}, 403, "SignatureDoesNotMatch"},
		{"x-amz-date not signed", "route53", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-date", "", 1))
		}, 403, "SignatureDoesNotMatch"},
		{"no Authorization", "route53", func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationToken"},
		{"signed for ec2", "ec2", func(*http.Request) {}, 403, "SignatureDoesNotMatch"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/2013-04-01/hostedzone/"+z.ID+"/rrset", nil)
			setBody(req, strings.Replace(body, "a.example.com", "a"+fmtInt(int64(i))+".example.com", 1))
			req.Header.Set("Content-Type", "text/xml")
			signRequest(t, req, tt.service, "us-east-1")
			tt.tamper(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || (tt.code != "" && !strings.Contains(string(out), "<Code>"+tt.code+"</Code>")) {
				t.Errorf("status %d, body %s; want %d %s", resp.StatusCode, out, tt.status, tt.code)
			}
		})
	}
}

func setBody(r *http.Request, b string) {
	r.Body = io.NopCloser(strings.NewReader(b))
	r.ContentLength = int64(len(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(b)), nil }
}

// signRequest signs r with testKey the way an SDK client does.
func signRequest(t *testing.T, r *http.Request, service, region string) {
	t.Helper()
	var b []byte
	if r.GetBody != nil {
		rc, _ := r.GetBody()
		b, _ = io.ReadAll(rc)
	}
	sum := sha256.Sum256(b)
	r.Body = io.NopCloser(bytes.NewReader(b))
	creds := aws.Credentials{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: testKey.SecretAccessKey, SessionToken: testKey.Token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestRoute53NeedsUSEast1 records the SDK behaviour fleet clients must
// work around: with an endpoint override the Route 53 client signs with
// the configured region, so a client in another region is refused.
func TestRoute53NeedsUSEast1(t *testing.T) {
	s := Start(t, Options{})
	s.AddCredentials(testKey)
	sdkConfig(t, s, testKey)
	t.Setenv("AWS_REGION", "eu-central-1")
	cfg, err := config.LoadDefaultConfig(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = route53.NewFromConfig(cfg, noRetry53).ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{})
	if code(err) != "SignatureDoesNotMatch" || !strings.Contains(message(err), "region") {
		t.Errorf("eu-central-1 client: %v, want SignatureDoesNotMatch naming the region", err)
	}
	_, err = route53.NewFromConfig(cfg, noRetry53, func(o *route53.Options) { o.Region = "us-east-1" }).ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{})
	if err != nil {
		t.Errorf("client with region us-east-1: %v", err)
	}
}
