package awsconfig

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

// selection is what New chose, in comparable form.
type selection struct {
	Endpoint string // "" for the SDK's own
	Creds    string // "env" or "role"
	Err      string
}

func choose(t *testing.T, service string, env map[string]string) selection {
	t.Helper()
	cfg, err := New(Options{Region: "eu-west-1", Service: service, IMDSEndpoint: "http://127.0.0.1:9",
		MaxAttempts: 3, MaxBackoff: time.Second,
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		return selection{Err: err.Error()}
	}
	var s selection
	if cfg.BaseEndpoint != nil {
		s.Endpoint = *cfg.BaseEndpoint
	}
	switch {
	case aws.IsCredentialsProvider(cfg.Credentials, credentials.StaticCredentialsProvider{}):
		s.Creds = "env"
	case aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)):
		s.Creds = "role"
	default:
		t.Fatalf("credentials provider %T", cfg.Credentials)
	}
	if _, ok := cfg.Credentials.(*aws.CredentialsCache); !ok {
		t.Errorf("credentials are not cached: %T", cfg.Credentials)
	}
	return s
}

func TestSelection(t *testing.T) {
	keys := map[string]string{EnvAccessKeyID: "AKIDEXAMPLE", EnvSecretAccessKey: "secret"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		service string
		env     map[string]string
		want    selection
	}{
		{"nothing set: the role, the SDK's endpoint", "ROUTE_53", nil, selection{Creds: "role"}},
		{"empty values count as unset", "ROUTE_53",
			map[string]string{EnvAccessKeyID: "", EnvSecretAccessKey: "", EnvSessionToken: "", EnvEndpointURL: "", "AWS_ENDPOINT_URL_ROUTE_53": ""},
			selection{Creds: "role"}},
		{"keys from the environment", "EC2", keys, selection{Creds: "env"}},
		{"keys and a session token", "EC2", with(keys, EnvSessionToken, "tok"), selection{Creds: "env"}},
		{"key id without secret", "EC2", map[string]string{EnvAccessKeyID: "AKIDEXAMPLE"},
			selection{Err: "environment AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY: set both, or neither to use the instance role"}},
		{"secret without key id", "EC2", map[string]string{EnvSecretAccessKey: "secret"},
			selection{Err: "environment AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID: set both, or neither to use the instance role"}},
		{"token alone", "EC2", map[string]string{EnvSessionToken: "tok"},
			selection{Err: "environment AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
		{"general endpoint", "ROUTE_53", map[string]string{EnvEndpointURL: "http://127.0.0.1:4566"},
			selection{Endpoint: "http://127.0.0.1:4566", Creds: "role"}},
		{"service endpoint wins", "ROUTE_53",
			map[string]string{EnvEndpointURL: "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_ROUTE_53": "https://r53.example.test"},
			selection{Endpoint: "https://r53.example.test", Creds: "role"}},
		{"another service's endpoint is not ours", "EC2",
			map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": "https://r53.example.test"}, selection{Creds: "role"}},
		{"EC2's own endpoint", "EC2",
			map[string]string{EnvEndpointURL: "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:5000"},
			selection{Endpoint: "http://127.0.0.1:5000", Creds: "role"}},
		{"endpoints ignored", "EC2",
			map[string]string{EnvIgnoreEndpoints: "TRUE", EnvEndpointURL: "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:5000"},
			selection{Creds: "role"}},
		{"endpoints not ignored", "EC2", map[string]string{EnvIgnoreEndpoints: "false", EnvEndpointURL: "http://127.0.0.1:4566"},
			selection{Endpoint: "http://127.0.0.1:4566", Creds: "role"}},
		{"bad ignore switch", "EC2", map[string]string{EnvIgnoreEndpoints: "yes"},
			selection{Err: `environment AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="yes": want true or false`}},
		{"endpoint without scheme", "EC2", map[string]string{"AWS_ENDPOINT_URL_EC2": "127.0.0.1:5000"},
			selection{Err: `environment AWS_ENDPOINT_URL_EC2="127.0.0.1:5000": want an http:// or https:// URL with a host`}},
		{"endpoint without host", "ROUTE_53", map[string]string{EnvEndpointURL: "https://"},
			selection{Err: `environment AWS_ENDPOINT_URL="https://": want an http:// or https:// URL with a host`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, choose(t, tc.service, tc.env)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestEnvironmentKeys: the keys are the ones the environment gave.
func TestEnvironmentKeys(t *testing.T) {
	env := map[string]string{EnvAccessKeyID: "AKIDEXAMPLE", EnvSecretAccessKey: "secret", EnvSessionToken: "tok"}
	cfg, err := New(Options{Region: "eu-west-1", Service: "EC2",
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken}
	if d := cmp.Diff([]string{"AKIDEXAMPLE", "secret", "tok"}, got); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
}

// TestRoleCredentialsFromTheGivenEndpoint: without keys in the environment
// the credentials are the instance role's, read from the metadata service
// at the endpoint given (AWS's emulator here), with IMDSv2.
func TestRoleCredentialsFromTheGivenEndpoint(t *testing.T) {
	exp := time.Now().Add(6 * time.Hour).UTC().Truncate(time.Second)
	md := aemm.Start(t, aemm.Config{IMDSv2: true, Role: "ec2boot-test", RoleCredentials: aemm.RoleCredentials{
		AccessKeyID: "ASIAROLE", SecretAccessKey: "rolesecret", Token: "roletoken", Expiration: exp}})
	cfg, err := New(Options{Region: "eu-west-1", Service: "EC2", IMDSEndpoint: md.URL,
		Lookup: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken}
	if d := cmp.Diff([]string{"ASIAROLE", "rolesecret", "roletoken"}, got); d != "" {
		t.Errorf("role credentials (-want +got):\n%s", d)
	}
	if !c.CanExpire {
		t.Error("role credentials that never expire: the cache would keep them for ever")
	}
}
