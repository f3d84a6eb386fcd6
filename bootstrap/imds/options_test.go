package imds_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/imds"
)

func TestWithEnv(t *testing.T) {
	type result struct {
		URL        string
		Given      bool
		Disabled   bool
		V1Disabled bool
	}
	tests := []struct {
		name    string
		opt     imds.Options
		env     map[string]string
		want    result
		wantErr bool
	}{
		{name: "defaults", want: result{URL: "http://169.254.169.254"}},
		{name: "IPv6 mode", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"},
			want: result{URL: "http://[fd00:ec2::254]"}},
		{name: "mode is case-insensitive", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "ipv6"},
			want: result{URL: "http://[fd00:ec2::254]"}},
		{name: "endpoint from env", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338/"},
			want: result{URL: "http://127.0.0.1:1338", Given: true}},
		{name: "flag beats env", opt: imds.Options{Endpoint: "http://127.0.0.2:80"},
			env:  map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338"},
			want: result{URL: "http://127.0.0.2:80", Given: true}},
		{name: "endpoint beats mode", env: map[string]string{
			"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://[::1]:1338", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4"},
			want: result{URL: "http://[::1]:1338", Given: true}},
		{name: "disabled", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "TRUE"},
			want: result{URL: "http://169.254.169.254", Disabled: true}},
		{name: "v1 disabled", env: map[string]string{"AWS_EC2_METADATA_V1_DISABLED": "true"},
			want: result{URL: "http://169.254.169.254", V1Disabled: true}},
		{name: "env false keeps option true", opt: imds.Options{V1Disabled: true},
			env:  map[string]string{"AWS_EC2_METADATA_V1_DISABLED": "false"},
			want: result{URL: "http://169.254.169.254", V1Disabled: true}},
		{name: "empty values ignored", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": ""},
			want: result{URL: "http://169.254.169.254"}},
		{name: "bad switch", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "yes"}, wantErr: true},
		{name: "bad mode", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"}, wantErr: true},
		{name: "bad endpoint", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254"}, wantErr: true},
		{name: "endpoint with query", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://x/?a=b"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			opt, err := tt.opt.WithEnv(lookup)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("WithEnv succeeded, want an error")
				}
				if _, err := imds.NewFromEnv(tt.opt, lookup); err == nil {
					t.Errorf("NewFromEnv succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("WithEnv: %v", err)
			}
			url, err := opt.BaseURL()
			if err != nil {
				t.Fatalf("BaseURL: %v", err)
			}
			got := result{URL: url, Given: opt.EndpointGiven(), Disabled: opt.Disabled, V1Disabled: opt.V1Disabled}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			c, err := imds.NewFromEnv(tt.opt, lookup)
			if err != nil {
				t.Fatalf("NewFromEnv: %v", err)
			}
			if c.Endpoint() != tt.want.URL {
				t.Errorf("client endpoint %q, want %q", c.Endpoint(), tt.want.URL)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opt := range []imds.Options{
		{RequestTimeout: -time.Second},
		{TokenTTL: 7 * time.Hour},
		{TokenTTL: time.Millisecond},
		{EndpointMode: "both"},
		{Endpoint: "ftp://x"},
	} {
		if _, err := imds.New(opt); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", opt)
		}
	}
}

func TestDefaultsFilledIn(t *testing.T) {
	c, err := imds.New(imds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	got := []time.Duration{o.RequestTimeout, o.TokenTimeout, o.TokenTTL, o.Backoff.Initial, o.Backoff.Max}
	want := []time.Duration{time.Second, time.Second, 6 * time.Hour, 200 * time.Millisecond, 2 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if o.MaxBody != imds.DefaultMaxBody {
		t.Errorf("MaxBody = %d", o.MaxBody)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := imds.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		n        int
		jitter   float64
		min, max time.Duration
	}{
		{0, 0, 50 * time.Millisecond, 50 * time.Millisecond},
		{0, 0.999, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 0, 100 * time.Millisecond, 100 * time.Millisecond},
		{3, 0.5, 600 * time.Millisecond, 600 * time.Millisecond},
		{4, 0, 500 * time.Millisecond, 500 * time.Millisecond}, // capped at 1 s
		{4, 0.999, 500 * time.Millisecond, time.Second},
		{1000, 0.999, 500 * time.Millisecond, time.Second}, // no overflow
	}
	for _, tt := range tests {
		got := b.Delay(tt.n, tt.jitter)
		if got < tt.min || got > tt.max {
			t.Errorf("Delay(%d, %v) = %s, want within [%s, %s]", tt.n, tt.jitter, got, tt.min, tt.max)
		}
	}
}
