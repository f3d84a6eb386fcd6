package awsapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Credentials are one key pair the peer accepts. Token is the session
// token of temporary credentials (instance-role credentials have one); a
// key registered with a token must carry it in x-amz-security-token.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	Token           string
}

// MaxSkew is how far x-amz-date may be from the peer's clock.
const MaxSkew = 5 * time.Minute

const amzDateFormat = "20060102T150405Z"

// authError is a refused signature, in the service's own words.
type authError struct {
	kind    authKind
	message string
}

type authKind int

const (
	authBadSignature authKind = iota // SignatureDoesNotMatch
	authUnknownKey                   // InvalidClientTokenId / AuthFailure
	authExpired                      // skewed or expired x-amz-date
	authMissing                      // no or malformed Authorization
)

func (e *authError) Error() string { return e.message }

// parsedAuth is the Authorization header taken apart.
type parsedAuth struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parseAuthorization(h string) (parsedAuth, error) {
	var p parsedAuth
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != "AWS4-HMAC-SHA256" {
		return p, fmt.Errorf("Authorization header must use AWS4-HMAC-SHA256")
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return p, fmt.Errorf("Authorization header has a malformed or repeated element %q", part)
		}
		seen[k] = true
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" || f[0] == "" {
				return p, fmt.Errorf("Credential should be scoped to a valid key/date/region/service/aws4_request, got %q", v)
			}
			p.accessKey, p.date, p.region, p.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			p.signedHeaders = strings.Split(v, ";")
		case "Signature":
			p.signature = v
		default:
			return p, fmt.Errorf("Authorization header has an unknown element %q", k)
		}
	}
	if p.accessKey == "" || len(p.signedHeaders) == 0 || p.signature == "" {
		return p, fmt.Errorf("Authorization header requires Credential, SignedHeaders and Signature")
	}
	return p, nil
}

// verify checks r's SigV4 signature for service and region against the
// registered keys. The expected signature is computed by the SDK's own
// signer over a copy of r that carries only the headers the client says
// it signed, so every difference in method, path, query, a signed header,
// the payload, the scope or the key shows up as a mismatch.
func verify(r *http.Request, body []byte, keys map[string]Credentials, service, region string, now time.Time) *authError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &authError{authMissing, "Missing Authentication Token"}
	}
	p, err := parseAuthorization(h)
	if err != nil {
		return &authError{authMissing, err.Error()}
	}
	cred, ok := keys[p.accessKey]
	if !ok {
		return &authError{authUnknownKey, "The security token included in the request is invalid."}
	}
	if !slices.Contains(p.signedHeaders, "host") || !slices.Contains(p.signedHeaders, "x-amz-date") {
		return &authError{authBadSignature, "'Host' and 'X-Amz-Date' must be signed headers"}
	}
	if !slices.IsSorted(p.signedHeaders) {
		return &authError{authBadSignature, "SignedHeaders must be sorted"}
	}
	when, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return &authError{authMissing, "X-Amz-Date is missing or not in the format yyyyMMddTHHmmssZ"}
	}
	if d := now.Sub(when); d > MaxSkew || d < -MaxSkew {
		return &authError{authExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			when.Format(amzDateFormat), now.Add(-MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	}
	if p.date != when.Format("20060102") {
		return &authError{authBadSignature, fmt.Sprintf("Credential should be scoped to a valid date, not %q (X-Amz-Date is %s)", p.date, when.Format(amzDateFormat))}
	}
	if p.region != region {
		return &authError{authBadSignature, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", p.region)}
	}
	if p.service != service {
		return &authError{authBadSignature, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service)}
	}
	if cred.Token != "" {
		got := r.Header.Get("X-Amz-Security-Token")
		if got == "" || !slices.Contains(p.signedHeaders, "x-amz-security-token") || subtle.ConstantTimeCompare([]byte(got), []byte(cred.Token)) != 1 {
			return &authError{authUnknownKey, "The security token included in the request is invalid."}
		}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" && ph != payloadHash {
		return &authError{authBadSignature, "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}

	c := &http.Request{Method: r.Method, URL: cloneURL(r), Host: r.Host, Header: http.Header{}, Body: http.NoBody}
	for _, name := range p.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			c.ContentLength = int64(len(body))
		default:
			vals := r.Header.Values(name)
			if len(vals) == 0 {
				return &authError{authBadSignature, fmt.Sprintf("signed header %q is not in the request", name)}
			}
			c.Header[http.CanonicalHeaderKey(name)] = vals
		}
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{
		AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey, SessionToken: cred.Token,
	}, c, payloadHash, service, region, when)
	if err != nil {
		return &authError{authBadSignature, err.Error()}
	}
	want, err := parseAuthorization(c.Header.Get("Authorization"))
	if err != nil {
		return &authError{authBadSignature, err.Error()}
	}
	if !slices.Equal(want.signedHeaders, p.signedHeaders) ||
		subtle.ConstantTimeCompare([]byte(want.signature), []byte(p.signature)) != 1 {
		return &authError{authBadSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return nil
}

func cloneURL(r *http.Request) *url.URL {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	return &u
}
