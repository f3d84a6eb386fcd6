package awsapi

import (
	"context"
	"errors"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
)

var testKey = Credentials{AccessKeyID: "AKIAPEERTEST0000001", SecretAccessKey: "peer/secret/key/0001", Token: "session-token-0001"}

// isolate keeps the SDK's default chain away from the machine's own
// files, variables and metadata service.
func isolate(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "",
	} {
		t.Setenv(k, v)
	}
}

// sdkConfig is what the product will do: the default configuration,
// reaching the peer through the standard endpoint variables.
func sdkConfig(t *testing.T, s *Server, c Credentials) aws.Config {
	t.Helper()
	isolate(t)
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", c.Token)
	cfg, err := config.LoadDefaultConfig(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// peer starts a peer that knows testKey, and clients for it with retries
// off (every answer reaches the test as it was sent).
func peer(t *testing.T, opt Options) (*Server, *route53.Client, *ec2.Client) {
	t.Helper()
	s := Start(t, opt)
	s.AddCredentials(testKey)
	cfg := sdkConfig(t, s, testKey)
	return s, route53.NewFromConfig(cfg, noRetry53), ec2.NewFromConfig(cfg, noRetryEC2)
}

func noRetry53(o *route53.Options) { o.Retryer = closedConnRetryer() }
func noRetryEC2(o *ec2.Options)    { o.Retryer = closedConnRetryer() }

// closedConnRetryer retries nothing the peer answers, only a connection
// the client closed under its own feet: the SDK closes a request's body as
// soon as the response arrives, racing net/http's final read of that body,
// and a loopback peer answers fast enough to lose that race now and then
// (aws-sdk-go-v2 issues 1825 and 2737). The SDK's default retryer retries
// that error too.
func closedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}

// code is the API error code of err, "" for none.
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}
