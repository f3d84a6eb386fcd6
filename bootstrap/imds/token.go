package imds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// getToken returns the token to send, or "" once the v1 fallback has been
// chosen. Only one token request is in flight at a time: parallel callers
// wait for it and share its result.
func (c *Client) getToken(ctx context.Context) (string, error) {
	if tok, ok := c.cached(); ok {
		return tok, nil
	}
	select {
	case c.tokenSem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("PUT %s: waiting for the token request: %w", tokenPath, ctx.Err())
	}
	defer func() { <-c.tokenSem }()
	// Another caller may have finished a token request while we waited.
	if tok, ok := c.cached(); ok {
		return tok, nil
	}
	return c.fetchToken(ctx)
}

// cached returns the current token, or "" with ok once v1 was chosen.
func (c *Client) cached() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v1 {
		return "", true
	}
	if c.token == "" {
		return "", false
	}
	// Renew a little early so that a token never expires between our
	// check and the service's.
	margin := min(c.opt.TokenTTL/4, time.Minute)
	if !c.opt.Clock.Now().Before(c.expires.Add(-margin)) {
		return "", false
	}
	return c.token, true
}

// invalidate forgets tok if it is still the current token (a parallel
// caller may already have replaced it).
func (c *Client) invalidate(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

func (c *Client) fetchToken(ctx context.Context) (string, error) {
	req, err := c.newRequest(http.MethodPut, tokenPath)
	if err != nil {
		return "", permanent(err)
	}
	ttl := int64(c.opt.TokenTTL / time.Second)
	req.Header.Set(headerTTL, strconv.FormatInt(ttl, 10))

	// Whether the request reached the service tells a dropped answer (the
	// hop limit: connected, asked, never answered) from a service that is
	// not up yet (nothing to connect to).
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }}
	tctx, cancel := context.WithTimeout(ctx, c.opt.TokenTimeout)
	defer cancel()
	c.tokenPUTs.Add(1)
	resp, err := c.hc.Do(req.WithContext(httptrace.WithClientTrace(tctx, trace)))
	if err != nil {
		if ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) && wrote.Load() {
			why := fmt.Sprintf("the token request got no answer within %s (the PUT response hop limit is too low for this container?)", c.opt.TokenTimeout)
			return c.fallback(why, true, fmt.Errorf("PUT %s: %w", tokenPath, err))
		}
		return "", fmt.Errorf("PUT %s: %w", tokenPath, err)
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		body, err := c.readBody(resp.Body, "PUT", tokenPath)
		if err != nil {
			return "", err
		}
		tok := strings.TrimSpace(string(body))
		if tok == "" || strings.ContainsAny(tok, "\r\n") {
			return "", fmt.Errorf("PUT %s: the answer is not a token (%d bytes)", tokenPath, len(body))
		}
		granted := ttl
		if v, err := strconv.ParseInt(resp.Header.Get(headerTTL), 10, 64); err == nil && v > 0 && v < granted {
			granted = v
		}
		c.mu.Lock()
		c.token = tok
		c.expires = c.opt.Clock.Now().Add(time.Duration(granted) * time.Second)
		c.mu.Unlock()
		return tok, nil
	case code == http.StatusForbidden, code == http.StatusNotFound, code == http.StatusMethodNotAllowed:
		// The SDKs fall back to IMDSv1 on exactly these.
		why := fmt.Sprintf("the token request was answered HTTP %d %s", code, http.StatusText(code))
		return c.fallback(why, false, &StatusError{Method: "PUT", Path: tokenPath, Code: code})
	case retryable(code), code == http.StatusUnauthorized:
		return "", &StatusError{Method: "PUT", Path: tokenPath, Code: code}
	default:
		return "", permanent(&StatusError{Method: "PUT", Path: tokenPath, Code: code})
	}
}

// fallback switches to IMDSv1 when allowed, or fails for good.
func (c *Client) fallback(why string, timeout bool, cause error) (string, error) {
	if c.opt.V1Disabled {
		return "", permanent(fmt.Errorf("%s and the IMDSv1 fallback is disabled: %w: %w", why, ErrNoToken, cause))
	}
	c.mu.Lock()
	c.v1, c.v1Reason, c.v1Timeout = true, why, timeout
	c.mu.Unlock()
	c.opt.Log.Warn().Str("endpoint", c.base).Str("reason", why).Msg("reading instance metadata with IMDSv1")
	return "", nil
}
