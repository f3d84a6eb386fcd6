package awsapi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/ec2boot/ec2boot/bootstrap/clock"
)

// TestFaults injects each fault once and checks how both SDK clients
// (retries off) see it, and that the next request is served again.
func TestFaults(t *testing.T) {
	tests := []struct {
		kind           FaultKind
		r53, ec2       string // error codes; "deserialize" for a body the SDK cannot read
		r53Msg, ec2Msg string
	}{
		{Throttle, "Throttling", "RequestLimitExceeded", "Rate exceeded", "Request limit exceeded."},
		{Deny, "AccessDenied", "UnauthorizedOperation", "route53:ListResourceRecordSets on resource: arn:aws:route53:::hostedzone/", "Encoded authorization failure message: "},
		{ServerError, "InternalFailure", "InternalError", "internal error", "internal error"},
		{PriorRequest, "PriorRequestNotComplete", "RequestLimitExceeded", "prior request", ""},
		{Malformed, "deserialize", "deserialize", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.r53, func(t *testing.T) {
			s, r53, ec := peer(t, Options{})
			z, _ := s.AddHostedZone("example.com", false)
			s.Inject(Fault{Service: Route53, Action: "ListResourceRecordSets", Kind: tt.kind, Times: 1})
			s.Inject(Fault{Service: EC2, Kind: tt.kind, Times: 1})
			list := func() error {
				_, err := r53.ListResourceRecordSets(ctx(t), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z.ID)})
				return err
			}
			desc := func() error {
				_, err := ec.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
				return err
			}
			// A fault for another action leaves this one alone.
			if _, err := r53.GetHostedZone(ctx(t), &route53.GetHostedZoneInput{Id: aws.String(z.ID)}); err != nil {
				t.Errorf("GetHostedZone hit by a ListResourceRecordSets fault: %v", err)
			}
			for _, c := range []struct {
				name, code, msg string
				call            func() error
			}{{"route53", tt.r53, tt.r53Msg, list}, {"ec2", tt.ec2, tt.ec2Msg, desc}} {
				err := c.call()
				var de *smithy.DeserializationError
				switch {
				case c.code == "deserialize":
					if !errors.As(err, &de) {
						t.Errorf("%s: %v (%T), want a deserialization error", c.name, err, err)
					}
				case code(err) != c.code || !strings.Contains(strings.ToLower(message(err)), strings.ToLower(c.msg)):
					t.Errorf("%s: %v, want %s with %q", c.name, err, c.code, c.msg)
				}
				if err := c.call(); err != nil {
					t.Errorf("%s: second request after a one-time fault: %v", c.name, err)
				}
			}
			if tt.kind == PriorRequest {
				var e *types.PriorRequestNotComplete
				s.Inject(Fault{Service: Route53, Kind: PriorRequest, Times: 1})
				_, err := r53.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(z.ID),
					ChangeBatch: changes(types.ChangeActionCreate, rrset("a.example.com", types.RRTypeA, 60, "192.0.2.1"))})
				if !errors.As(err, &e) {
					t.Errorf("PriorRequestNotComplete is not the SDK's typed error: %T", err)
				}
			}
		})
	}
}

// fastRetries is the SDK's standard retryer without the waiting.
func fastRetries(attempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
}

// TestThrottleThenRetry: with retries off the throttle reaches the
// caller; with the SDK's standard retryer two throttles are retried away
// (three requests), and a third attempt limit of two is not enough.
func TestThrottleThenRetry(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		faults   int
		ok       bool
		requests int
	}{
		{"retries off", 1, 1, false, 1},
		{"standard retryer", 3, 2, true, 3},
		{"attempts exhausted", 2, 2, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Options{})
			s.AddCredentials(testKey)
			cfg := sdkConfig(t, s, testKey)
			cfg.Retryer = fastRetries(tt.attempts)
			s.Inject(Fault{Service: Route53, Kind: Throttle, Times: tt.faults})
			s.Inject(Fault{Service: EC2, Kind: Throttle, Times: tt.faults})
			_, err53 := route53.NewFromConfig(cfg).ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{})
			_, errEC2 := ec2.NewFromConfig(cfg).DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
			for name, err := range map[string]error{"route53": err53, "ec2": errEC2} {
				if (err == nil) != tt.ok {
					t.Errorf("%s: %v, want ok=%v", name, err, tt.ok)
				}
			}
			if a, b := s.Count(Route53, "ListHostedZonesByName"), s.Count(EC2, "DescribeInstances"); a != tt.requests || b != tt.requests {
				t.Errorf("requests: route53 %d, ec2 %d, want %d each", a, b, tt.requests)
			}
		})
	}
}

// TestRateLimit: a token bucket like Route 53's 5 requests a second.
func TestRateLimit(t *testing.T) {
	fake := clock.NewFake(time.Now())
	s, r53, _ := peer(t, Options{Clock: fake})
	s.RateLimit(Route53, 5, 5)
	call := func() string {
		_, err := r53.ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{})
		return code(err)
	}
	var got []string
	for i := 0; i < 6; i++ {
		got = append(got, call())
	}
	fake.Advance(200 * time.Millisecond) // one token back
	got = append(got, call(), call())
	want := []string{"", "", "", "", "", "Throttling", "", "Throttling"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("codes %q, want %q", got, want)
	}
	s.ClearFaults()
	if c := call(); c != "" {
		t.Errorf("after ClearFaults: %s", c)
	}
}

// TestDelayFault holds a request for the fault's delay; a client deadline
// shorter than that fails.
func TestDelayFault(t *testing.T) {
	s, r53, _ := peer(t, Options{})
	s.Inject(Fault{Service: Route53, Kind: Delay, Delay: 300 * time.Millisecond, Times: 1})
	c, cancel := contextWithTimeout(t, 50*time.Millisecond)
	defer cancel()
	_, err := r53.ListHostedZonesByName(c, &route53.ListHostedZonesByNameInput{})
	if err == nil || !errors.Is(err, contextDeadline) {
		t.Errorf("delayed request: %v, want the deadline to pass", err)
	}
	if _, err := r53.ListHostedZonesByName(ctx(t), &route53.ListHostedZonesByNameInput{}); err != nil {
		t.Errorf("next request: %v", err)
	}
}
