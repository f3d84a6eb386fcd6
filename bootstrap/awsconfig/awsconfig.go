// Package awsconfig builds the aws.Config of ec2boot's two AWS clients
// (Route 53 for DNS, EC2 for peer discovery) from exactly the sources
// ec2boot supports, instead of the SDK's config.LoadDefaultConfig.
//
// LoadDefaultConfig links every credential source the SDK knows (SSO, SSO
// OIDC, STS, sign-in, shared files, containers), their clients and their
// initialisers, into a binary that on an instance only ever uses the
// instance role: about 2.8 MB of the binary and of the pages every start
// touches. What ec2boot uses of it is read here explicitly:
//
//   - credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
//     AWS_SESSION_TOKEN if set) when both are set; otherwise the instance
//     role's, from the metadata service ec2boot reads its facts from;
//   - endpoint: AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_ROUTE_53),
//     else AWS_ENDPOINT_URL, else the SDK's endpoint for the region; neither
//     when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true;
//   - the region and the retries, given by the caller.
//
// Shared config and credentials files, profiles, AWS_REGION and
// AWS_MAX_ATTEMPTS are not read.
package awsconfig

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/logging"
)

// The environment variables read.
const (
	EnvAccessKeyID      = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey  = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken     = "AWS_SESSION_TOKEN"
	EnvEndpointURL      = "AWS_ENDPOINT_URL"
	EnvIgnoreEndpoints  = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	EnvIMDSV1Disabled   = "AWS_EC2_METADATA_V1_DISABLED"
	envEndpointURLOfSvc = EnvEndpointURL + "_"
)

// Options say what one client needs.
type Options struct {
	// Region signs the requests and picks the default endpoint.
	Region string
	// Service is the service's part of its endpoint variable:
	// AWS_ENDPOINT_URL_<Service> ("ROUTE_53", "EC2").
	Service string
	// IMDSEndpoint is the metadata service the role's credentials come
	// from: the one ec2boot read its facts from. Empty means the SDK's
	// default address.
	IMDSEndpoint string
	// MaxAttempts and MaxBackoff set the SDK's standard retryer: one
	// call's attempts, and the most it waits between two.
	MaxAttempts int
	MaxBackoff  time.Duration
	// Lookup reads the environment; nil means os.LookupEnv.
	Lookup func(string) (string, bool)
}

// New builds the configuration. It sends nothing: the role's credentials
// are fetched on the first call, and kept (aws.CredentialsCache) until
// shortly before they expire.
func New(o Options) (aws.Config, error) {
	env := func(k string) string {
		lookup := o.Lookup
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, _ := lookup(k)
		return v
	}
	endpoint, err := endpointFor(o.Service, env)
	if err != nil {
		return aws.Config{}, err
	}
	creds, err := credentialsFrom(o.IMDSEndpoint, env)
	if err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region:      o.Region,
		Credentials: aws.NewCredentialsCache(creds),
		// The SDK would print its own warnings on stderr, outside the
		// run's log; every error it has reaches the run as an error.
		Logger: logging.Nop{},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts, so.MaxBackoff = o.MaxAttempts, o.MaxBackoff
			})
		},
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg, nil
}

// endpointFor is the endpoint override of service, "" for none: the
// service's own variable wins over the general one.
func endpointFor(service string, env func(string) string) (string, error) {
	if v := env(EnvIgnoreEndpoints); v != "" {
		switch strings.ToLower(v) {
		case "true":
			return "", nil
		case "false":
		default:
			return "", fmt.Errorf("environment %s=%q: want true or false", EnvIgnoreEndpoints, v)
		}
	}
	for _, name := range []string{envEndpointURLOfSvc + service, EnvEndpointURL} {
		v := env(name)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("environment %s=%q: want an http:// or https:// URL with a host", name, v)
		}
		return v, nil
	}
	return "", nil
}

// credentialsFrom picks the credential source: the environment's keys when
// set, else the instance role through the metadata service at imdsEndpoint.
func credentialsFrom(imdsEndpoint string, env func(string) string) (aws.CredentialsProvider, error) {
	id, secret, token := env(EnvAccessKeyID), env(EnvSecretAccessKey), env(EnvSessionToken)
	switch {
	case id != "" && secret != "":
		return credentials.NewStaticCredentialsProvider(id, secret, token), nil
	case id != "":
		return nil, fmt.Errorf("environment %s is set without %s: set both, or neither to use the instance role", EnvAccessKeyID, EnvSecretAccessKey)
	case secret != "":
		return nil, fmt.Errorf("environment %s is set without %s: set both, or neither to use the instance role", EnvSecretAccessKey, EnvAccessKeyID)
	case token != "":
		return nil, fmt.Errorf("environment %s is set without %s and %s", EnvSessionToken, EnvAccessKeyID, EnvSecretAccessKey)
	}
	io := imds.Options{Endpoint: imdsEndpoint}
	// ec2boot's own metadata client honours this switch; the role's
	// credentials come from the same service under the same rule.
	if strings.EqualFold(env(EnvIMDSV1Disabled), "true") {
		io.EnableFallback = aws.FalseTernary
	}
	client := imds.New(io)
	return ec2rolecreds.New(func(ro *ec2rolecreds.Options) { ro.Client = client }), nil
}
