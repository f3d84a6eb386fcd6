package config

import (
	"net/url"
	"time"
)

// IMDS configures how instance metadata is read.
type IMDS struct {
	// Endpoint overrides the metadata service address (normally set by
	// --imds-endpoint or AWS_EC2_METADATA_SERVICE_ENDPOINT instead).
	Endpoint string `toml:"endpoint"`
	// Timeout is the overall deadline for metadata to become available at boot.
	Timeout Duration `toml:"timeout"`
	// RequestTimeout bounds each single request.
	RequestTimeout Duration `toml:"request_timeout"`
}

func (s *IMDS) setDefaults() {
	if s.Timeout.Duration == 0 {
		s.Timeout.Duration = 60 * time.Second
	}
	if s.RequestTimeout.Duration == 0 {
		s.RequestTimeout.Duration = time.Second
	}
}

func (s *IMDS) validate(v *validator) {
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf("imds.endpoint", "must be an http:// or https:// URL, got %q", RedactURL(s.Endpoint))
		case u.User != nil:
			v.errorf("imds.endpoint", "%q: credentials in the URL are refused", RedactURL(s.Endpoint))
		}
	}
	if s.RequestTimeout.Duration > s.Timeout.Duration {
		v.errorf("imds.request_timeout", "%s is longer than imds.timeout %s", s.RequestTimeout.Duration, s.Timeout.Duration)
	}
}
