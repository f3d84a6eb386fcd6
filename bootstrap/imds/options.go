package imds

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
)

// The default endpoints, as the AWS SDKs use them.
const (
	DefaultEndpointIPv4 = "http://169.254.169.254"
	DefaultEndpointIPv6 = "http://[fd00:ec2::254]"
)

// Endpoint modes for Options.EndpointMode and
// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE.
const (
	ModeIPv4 = "IPv4"
	ModeIPv6 = "IPv6"
)

// The environment variables the AWS SDKs read, honoured by WithEnv.
const (
	EnvEndpoint     = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
	EnvEndpointMode = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
	EnvDisabled     = "AWS_EC2_METADATA_DISABLED"
	EnvV1Disabled   = "AWS_EC2_METADATA_V1_DISABLED"
)

// Defaults for the zero values of Options.
const (
	// DefaultRequestTimeout bounds one GET. IMDS answers in about a
	// millisecond on an instance; a second is generous.
	DefaultRequestTimeout = time.Second
	// DefaultTokenTimeout bounds the token PUT. When a container sits one
	// hop too far away the PUT's answer is dropped silently, so this is
	// what the v1 fallback costs; the SDKs learned to keep it at a second
	// instead of the 20 s it once was.
	DefaultTokenTimeout = time.Second
	// DefaultTokenTTL is the lifetime asked for each token (the maximum
	// IMDS grants is 6 hours).
	DefaultTokenTTL = 6 * time.Hour
	// DefaultMaxBody caps a response. IMDS caps user-data at 16 KiB; the
	// rest is smaller still.
	DefaultMaxBody = 256 << 10
)

// Options configure a Client. The zero value talks to the default IPv4
// endpoint with IMDSv2 first and the SDKs' v1 fallback.
type Options struct {
	// Endpoint is the base URL of the metadata service. Empty means the
	// default for EndpointMode.
	Endpoint string
	// EndpointMode picks the default endpoint: "IPv4" (default) or "IPv6".
	EndpointMode string
	// Disabled turns the client off: every request fails with ErrDisabled
	// without touching the network.
	Disabled bool
	// V1Disabled forbids the IMDSv1 fallback: without a token, nothing is
	// read.
	V1Disabled bool
	// RequestTimeout bounds each GET attempt; TokenTimeout each token PUT.
	RequestTimeout time.Duration
	TokenTimeout   time.Duration
	// TokenTTL is the lifetime asked for each token.
	TokenTTL time.Duration
	// Backoff paces retries of transient failures within the caller's
	// deadline.
	Backoff Backoff
	// MaxBody caps each response body; longer answers fail with ErrTooLarge.
	MaxBody int64
	// HTTPClient replaces the client built from the timeouts (tests).
	HTTPClient *http.Client
	// Clock tells when a token has expired. Nil means the real clock.
	Clock clock.Clock
	// Log receives the fallback decisions. The zero value logs nothing.
	Log zerolog.Logger
}

// WithEnv returns the options with the AWS SDK environment variables
// applied, read through lookup (os.LookupEnv in the binary). Settings
// already made in o win over the environment: an endpoint given on the
// command line beats AWS_EC2_METADATA_SERVICE_ENDPOINT. The two switches
// are ORed: either source can disable.
func (o Options) WithEnv(lookup func(string) (string, bool)) (Options, error) {
	if lookup == nil {
		return o, nil
	}
	if v, ok := lookup(EnvEndpoint); ok && v != "" && o.Endpoint == "" {
		o.Endpoint = v
	}
	if v, ok := lookup(EnvEndpointMode); ok && v != "" && o.EndpointMode == "" {
		o.EndpointMode = v
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{EnvDisabled, &o.Disabled}, {EnvV1Disabled, &o.V1Disabled}} {
		v, ok := lookup(b.name)
		if !ok || v == "" {
			continue
		}
		switch strings.ToLower(v) {
		case "true":
			*b.dst = true
		case "false":
		default:
			return o, fmt.Errorf("environment %s=%q: want true or false", b.name, v)
		}
	}
	return o, o.check()
}

// EndpointGiven reports whether the endpoint was set explicitly rather than
// left to the default. Only then may a run probe it without first checking
// that it runs on EC2.
func (o Options) EndpointGiven() bool { return o.Endpoint != "" }

// BaseURL returns the endpoint the options resolve to.
func (o Options) BaseURL() (string, error) {
	if err := o.check(); err != nil {
		return "", err
	}
	return o.baseURL(), nil
}

func (o Options) baseURL() string {
	if o.Endpoint != "" {
		return strings.TrimRight(o.Endpoint, "/")
	}
	if strings.EqualFold(o.EndpointMode, ModeIPv6) {
		return DefaultEndpointIPv6
	}
	return DefaultEndpointIPv4
}

func (o Options) check() error {
	switch {
	case o.EndpointMode == "", strings.EqualFold(o.EndpointMode, ModeIPv4), strings.EqualFold(o.EndpointMode, ModeIPv6):
	default:
		return fmt.Errorf("IMDS endpoint mode %q: want IPv4 or IPv6", o.EndpointMode)
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("IMDS endpoint %q: want an http:// or https:// URL", o.Endpoint)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("IMDS endpoint %q: must not have a query or fragment", o.Endpoint)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"request timeout", o.RequestTimeout}, {"token timeout", o.TokenTimeout}, {"token TTL", o.TokenTTL}} {
		if d.v < 0 {
			return fmt.Errorf("IMDS %s %s is negative", d.name, d.v)
		}
	}
	if o.TokenTTL != 0 && (o.TokenTTL < time.Second || o.TokenTTL > DefaultTokenTTL) {
		return fmt.Errorf("IMDS token TTL %s: must be between 1s and 6h", o.TokenTTL)
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.TokenTimeout == 0 {
		o.TokenTimeout = DefaultTokenTimeout
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	o.Backoff = o.Backoff.withDefaults()
}
