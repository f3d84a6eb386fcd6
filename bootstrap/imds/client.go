// Package imds reads the EC2 instance metadata service the way the AWS SDKs
// do: IMDSv2 first, one token shared by every request and refreshed on 401,
// the IMDSv1 fallback only where the SDKs allow it, and every request
// bounded by a short per-request timeout inside the caller's deadline, with
// capped, jittered back-off between attempts while the service starts.
package imds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The IMDSv2 token protocol.
const (
	tokenPath      = "/latest/api/token"
	headerTTL      = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	headerToken    = "X-Aws-Ec2-Metadata-Token"
	userAgentValue = "ec2boot"
)

// Client reads instance metadata. It is safe for concurrent use; requests
// made in parallel share one token and at most one token request is in
// flight at a time.
type Client struct {
	opt  Options
	base string
	hc   *http.Client

	// tokenSem serialises token requests (a one-slot semaphore, so that
	// waiting for it can honour the caller's context).
	tokenSem chan struct{}

	mu       sync.Mutex
	token    string
	expires  time.Time
	v1       bool   // the IMDSv1 fallback was chosen
	v1Reason string // why, for messages
	// v1Timeout is set when the fallback came from a token request that
	// got no answer, which a slow service can also cause; such a
	// fallback is undone once if the service then demands a token.
	v1Timeout bool
	v1Undone  bool

	tokenPUTs atomic.Int64
}

// New returns a client for the given options. It sends nothing.
func New(opt Options) (*Client, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	opt.setDefaults()
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport(opt.RequestTimeout)}
	}
	return &Client{
		opt:      opt,
		base:     opt.baseURL(),
		hc:       hc,
		tokenSem: make(chan struct{}, 1),
	}, nil
}

// NewFromEnv is New with the AWS SDK environment variables applied through
// lookup (see Options.WithEnv).
func NewFromEnv(opt Options, lookup func(string) (string, bool)) (*Client, error) {
	opt, err := opt.WithEnv(lookup)
	if err != nil {
		return nil, err
	}
	return New(opt)
}

func newTransport(connect time.Duration) *http.Transport {
	return &http.Transport{
		// Never through a proxy: the metadata service is link-local.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: connect}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
}

// Endpoint returns the base URL the client talks to.
func (c *Client) Endpoint() string { return c.base }

// Options returns the options in effect, defaults filled in.
func (c *Client) Options() Options { return c.opt }

// Mode reports how the client reads: "v2" with a token, "v1" after the
// fallback (with the reason), or "" before the first token request.
func (c *Client) Mode() (mode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.v1:
		return "v1", c.v1Reason
	case c.token != "":
		return "v2", ""
	}
	return "", ""
}

// TokenRequests returns how many token PUTs the client has sent.
func (c *Client) TokenRequests() int { return int(c.tokenPUTs.Load()) }

// GetMetadata reads /latest/meta-data/<p>.
func (c *Client) GetMetadata(ctx context.Context, p string) ([]byte, error) {
	return c.Get(ctx, "/latest/meta-data/"+strings.TrimPrefix(p, "/"))
}

// GetUserData reads /latest/user-data; errors.Is(err, ErrNotFound) means
// the instance has none.
func (c *Client) GetUserData(ctx context.Context) ([]byte, error) {
	return c.Get(ctx, "/latest/user-data")
}

// WaitReady returns once the metadata service has answered the token
// request (or the v1 fallback was decided on its answer), retrying until
// ctx ends.
func (c *Client) WaitReady(ctx context.Context) error {
	if c.opt.Disabled {
		return ErrDisabled
	}
	var last error
	for n := 0; ; n++ {
		_, err := c.getToken(ctx)
		if err == nil {
			return nil
		}
		if isPermanent(err) {
			return unwrapPermanent(err)
		}
		last = err
		if ctx.Err() != nil || !c.opt.Backoff.sleepAfter(ctx, n, err) {
			return giveUp("PUT", tokenPath, n+1, last, ctx)
		}
	}
}

// Get reads path (for example "/latest/meta-data/instance-id"). A 404 gives
// an error wrapping ErrNotFound; an empty answer gives an empty, non-nil
// slice. Transient failures are retried until ctx ends.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	p, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	if c.opt.Disabled {
		return nil, fmt.Errorf("GET %s: %w", p, ErrDisabled)
	}
	var last error
	refreshed := false
	for n := 0; ; {
		body, err := c.getOnce(ctx, p, &refreshed)
		switch {
		case err == nil:
			return body, nil
		case errors.Is(err, ErrNotFound), isPermanent(err):
			return nil, unwrapPermanent(err)
		case errors.Is(err, errRetryNow):
			continue
		}
		last = err
		if ctx.Err() != nil || !c.opt.Backoff.sleepAfter(ctx, n, err) {
			return nil, giveUp("GET", p, n+1, last, ctx)
		}
		n++
	}
}

// errRetryNow asks Get to try again at once: the token was refreshed after
// a 401 and the next attempt is expected to work.
var errRetryNow = errors.New("token refreshed")

func (c *Client) getOnce(ctx context.Context, p string, refreshed *bool) ([]byte, error) {
	tok, err := c.getToken(ctx)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(http.MethodGet, p)
	if err != nil {
		return nil, permanent(err)
	}
	if tok != "" {
		req.Header.Set(headerToken, tok)
	}
	actx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	resp, err := c.hc.Do(req.WithContext(actx))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", p, err)
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		return c.readBody(resp.Body, "GET", p)
	case code == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %w", p, ErrNotFound)
	case code == http.StatusUnauthorized && tok == "":
		return nil, c.tokenDemanded(p)
	case code == http.StatusUnauthorized:
		// The token expired or the service restarted: get a fresh one,
		// once at once, later with back-off.
		c.invalidate(tok)
		c.opt.Log.Debug().Str("path", p).Msg("IMDS token rejected, requesting a new one")
		if !*refreshed {
			*refreshed = true
			return nil, errRetryNow
		}
		return nil, &StatusError{Method: "GET", Path: p, Code: code}
	case retryable(code):
		return nil, &StatusError{Method: "GET", Path: p, Code: code}
	default:
		return nil, permanent(&StatusError{Method: "GET", Path: p, Code: code})
	}
}

// tokenDemanded handles a 401 to a read without a token, after the v1
// fallback: a fallback caused by a token request that timed out is undone
// once (the service may just have been slow); otherwise, or the second
// time, the service demands what it will not give, and that is final.
func (c *Client) tokenDemanded(p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := fmt.Errorf("GET %s: the metadata service requires an IMDSv2 token, but %s: %w", p, c.v1Reason, ErrNoToken)
	if c.v1 && c.v1Timeout && !c.v1Undone {
		c.v1, c.v1Undone = false, true
		c.opt.Log.Debug().Msg("the metadata service demands a token after all; asking for one again")
		return err
	}
	return permanent(err)
}

func (c *Client) readBody(r io.Reader, method, p string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, c.opt.MaxBody+1))
	if err != nil {
		// A truncated answer (the connection closed before
		// Content-Length bytes) is a transient failure, never data.
		return nil, fmt.Errorf("%s %s: reading answer: %w", method, p, err)
	}
	if int64(len(body)) > c.opt.MaxBody {
		return nil, permanent(fmt.Errorf("%s %s: longer than %d bytes: %w", method, p, c.opt.MaxBody, ErrTooLarge))
	}
	if body == nil {
		body = []byte{}
	}
	return body, nil
}

func (c *Client) newRequest(method, p string) (*http.Request, error) {
	req, err := http.NewRequest(method, c.base+p, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	req.Header.Set("User-Agent", userAgentValue)
	return req, nil
}

// cleanPath checks a metadata path and gives it a leading slash.
func cleanPath(p string) (string, error) {
	if p == "" || p == "/" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return "", fmt.Errorf("metadata path %q: must not contain %q", p, seg)
		}
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || r == '?' || r == '#' || r == '%' || r == '\\' {
			return "", fmt.Errorf("metadata path %q: invalid character %q", p, r)
		}
	}
	return p, nil
}

func unwrapPermanent(err error) error {
	var p *permanentError
	if errors.As(err, &p) {
		return p.err
	}
	return err
}

// giveUp builds the error for a request that ran out of time, naming the
// attempts and the last failure seen.
func giveUp(method, p string, attempts int, last error, ctx context.Context) error {
	if last == nil {
		last = ctx.Err()
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s %s: %w (after %d attempts; last: %w)", method, p, ctx.Err(), attempts, last)
	}
	return fmt.Errorf("%s %s: %w: no answer before the deadline after %d attempts; last: %w", method, p, ErrUnreachable, attempts, last)
}
