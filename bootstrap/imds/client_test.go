package imds_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/internal/testpeer/fakeimds"
	"github.com/ec2boot/ec2boot/internal/testpeer/netns"
)

// fast are options that keep fault tests quick: short waits, real logic.
func fast(endpoint string) imds.Options {
	return imds.Options{
		Endpoint:       endpoint,
		RequestTimeout: 500 * time.Millisecond,
		TokenTimeout:   200 * time.Millisecond,
		Backoff:        imds.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}
}

func newClient(t *testing.T, opt imds.Options) *imds.Client {
	t.Helper()
	c, err := imds.New(opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestOneTokenSharedByAllRequests(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	c := newClient(t, fast(srv.URL))
	ctx := ctxFor(t, 5*time.Second)
	done := make(chan error)
	paths := []string{"instance-id", "local-ipv4", "mac", "ami-id", "instance-type", "placement/region"}
	for _, p := range paths {
		go func() {
			_, err := c.GetMetadata(ctx, p)
			done <- err
		}()
	}
	for range paths {
		if err := <-done; err != nil {
			t.Fatalf("GetMetadata: %v", err)
		}
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	for _, r := range srv.Requests() {
		if r.Method == "GET" && !r.WithToken {
			t.Errorf("GET %s sent without a token", r.Path)
		}
	}
	if mode, _ := c.Mode(); mode != "v2" {
		t.Errorf("Mode = %q, want v2", mode)
	}
	if c.TokenRequests() != 1 {
		t.Errorf("TokenRequests = %d, want 1", c.TokenRequests())
	}
}

func TestAbsentEmptyAndPresentStayDistinct(t *testing.T) {
	md := fakeimds.Metadata()
	md["/latest/meta-data/public-hostname"] = ""
	delete(md, "/latest/meta-data/public-ipv4")
	srv := fakeimds.New(t, md)
	c := newClient(t, fast(srv.URL))
	ctx := ctxFor(t, 5*time.Second)

	tests := []struct {
		path     string
		want     []byte
		notFound bool
	}{
		{path: "/latest/meta-data/public-ipv4", notFound: true},
		{path: "/latest/meta-data/public-hostname", want: []byte{}},
		{path: "latest/meta-data/local-ipv4", want: []byte("10.1.2.3")},
		{path: "/latest/meta-data/block-device-mapping/", want: []byte("ami\nephemeral0\nephemeral1\nroot")},
	}
	for _, tt := range tests {
		got, err := c.Get(ctx, tt.path)
		if tt.notFound {
			if !errors.Is(err, imds.ErrNotFound) || got != nil {
				t.Errorf("Get(%s) = %q, %v; want nil, ErrNotFound", tt.path, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Get(%s): %v", tt.path, err)
			continue
		}
		if got == nil {
			t.Errorf("Get(%s) = nil, want a non-nil (possibly empty) answer", tt.path)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Get(%s) (-want +got):\n%s", tt.path, diff)
		}
	}
	// 404 is an answer: asked once, never retried.
	if n := srv.Count("GET", "/latest/meta-data/public-ipv4"); n != 1 {
		t.Errorf("public-ipv4 asked %d times, want 1", n)
	}
}

func TestLateStartIsWaitedFor(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.UpAfter(300 * time.Millisecond)
	c := newClient(t, fast(srv.URL))
	got, err := c.GetMetadata(ctxFor(t, 10*time.Second), "instance-id")
	if err != nil {
		t.Fatalf("GetMetadata after late start: %v", err)
	}
	if string(got) != "i-0123456789abcdef0" {
		t.Errorf("instance-id = %q", got)
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
		t.Errorf("token requests that reached the service = %d, want 1", n)
	}
}

func TestWaitReady(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.UpAfter(200 * time.Millisecond)
	c := newClient(t, fast(srv.URL))
	if err := c.WaitReady(ctxFor(t, 10*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if srv.Total() != 1 {
		t.Errorf("requests = %d, want 1 token request", srv.Total())
	}
	srv.Down()
	// A later GET reuses the token; the service being gone is now a
	// deadline error, not a wait for ever.
	_, err := c.GetMetadata(ctxFor(t, 300*time.Millisecond), "instance-id")
	if !errors.Is(err, imds.ErrUnreachable) {
		t.Errorf("GET with the service down: %v, want ErrUnreachable", err)
	}
}

func TestUnreachableGivesUpAtDeadline(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.Down()
	c := newClient(t, fast(srv.URL))
	_, err := c.GetMetadata(ctxFor(t, 300*time.Millisecond), "instance-id")
	if !errors.Is(err, imds.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error does not name the last failure: %v", err)
	}
	if !strings.Contains(err.Error(), "attempts") {
		t.Errorf("error does not count the attempts: %v", err)
	}
}

func TestCancelIsNotUnreachable(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.Down()
	c := newClient(t, fast(srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.GetMetadata(ctx, "instance-id")
	if !errors.Is(err, context.Canceled) || errors.Is(err, imds.ErrUnreachable) {
		t.Fatalf("err = %v, want context.Canceled only", err)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.FailNext("PUT", fakeimds.TokenPath, 503)
	srv.FailNext("GET", "/latest/meta-data/instance-id", 500, 500, 429)
	c := newClient(t, fast(srv.URL))
	got, err := c.GetMetadata(ctxFor(t, 5*time.Second), "instance-id")
	if err != nil || string(got) != "i-0123456789abcdef0" {
		t.Fatalf("GetMetadata = %q, %v", got, err)
	}
	if n := srv.Count("GET", "/latest/meta-data/instance-id"); n != 4 {
		t.Errorf("GETs = %d, want 4 (three failures, one answer)", n)
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 2 {
		t.Errorf("token PUTs = %d, want 2 (one 503, one token)", n)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusMethodNotAllowed} {
		srv := fakeimds.New(t, fakeimds.Metadata())
		srv.FailNext("GET", "/latest/meta-data/instance-id", code)
		c := newClient(t, fast(srv.URL))
		_, err := c.GetMetadata(ctxFor(t, 5*time.Second), "instance-id")
		var se *imds.StatusError
		if !errors.As(err, &se) || se.Code != code {
			t.Errorf("HTTP %d: err = %v, want a StatusError", code, err)
		}
		if n := srv.Count("GET", "/latest/meta-data/instance-id"); n != 1 {
			t.Errorf("HTTP %d: asked %d times, want 1", code, n)
		}
	}
}

func TestExpiredTokenIsRefreshedOn401(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	c := newClient(t, fast(srv.URL))
	ctx := ctxFor(t, 5*time.Second)
	if _, err := c.GetMetadata(ctx, "instance-id"); err != nil {
		t.Fatal(err)
	}
	srv.ExpireTokens()
	got, err := c.GetMetadata(ctx, "local-ipv4")
	if err != nil || string(got) != "10.1.2.3" {
		t.Fatalf("after expiry: %q, %v", got, err)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	// token, GET, GET 401, token, GET: the refresh costs one round trip.
	if diff := cmp.Diff([]int{200, 200, 401, 200, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestTokenRenewedBeforeItsTTL(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opt := fast(srv.URL)
	opt.Clock = clk
	opt.TokenTTL = 10 * time.Minute
	c := newClient(t, opt)
	ctx := ctxFor(t, 5*time.Second)
	for i := 0; i < 3; i++ {
		if _, err := c.GetMetadata(ctx, "instance-id"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(4*time.Minute + 30*time.Second)
	}
	// 0:00 new token; 4:30 still good; 9:00 within a minute of expiry at
	// 10:00, so renewed without waiting for a 401.
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 2 {
		t.Errorf("token PUTs = %d, want 2", n)
	}
	for _, r := range srv.Requests() {
		if r.Status == 401 {
			t.Errorf("got a 401: the token should have been renewed first")
		}
	}
}

func TestV1FallbackOnTokenRefusal(t *testing.T) {
	for _, code := range []int{http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed} {
		srv := fakeimds.New(t, fakeimds.Metadata())
		srv.SetFaults(fakeimds.Faults{V1Only: true, TokenStatus: code})
		c := newClient(t, fast(srv.URL))
		ctx := ctxFor(t, 5*time.Second)
		for _, p := range []string{"instance-id", "mac"} {
			if _, err := c.GetMetadata(ctx, p); err != nil {
				t.Fatalf("token HTTP %d: GetMetadata(%s): %v", code, p, err)
			}
		}
		mode, why := c.Mode()
		if mode != "v1" || !strings.Contains(why, http.StatusText(code)) {
			t.Errorf("token HTTP %d: Mode = %q, %q", code, mode, why)
		}
		if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
			t.Errorf("token HTTP %d: token PUTs = %d, want 1 (the decision sticks)", code, n)
		}
	}
}

func TestV1DisabledRefusesFallback(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.SetFaults(fakeimds.Faults{V1Only: true})
	opt := fast(srv.URL)
	opt.V1Disabled = true
	c := newClient(t, opt)
	_, err := c.GetMetadata(ctxFor(t, 5*time.Second), "instance-id")
	if !errors.Is(err, imds.ErrNoToken) {
		t.Fatalf("err = %v, want ErrNoToken", err)
	}
	if n := srv.Count("GET", "/latest/meta-data/instance-id"); n != 0 {
		t.Errorf("sent %d GETs without a token, want 0", n)
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
		t.Errorf("token PUTs = %d, want 1 (a refusal is final)", n)
	}
}

// A token PUT whose answer never comes (the hop limit in a container) must
// cost the token timeout once, then fall back.
func TestHangingTokenFallsBackAfterTokenTimeout(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.SetFaults(fakeimds.Faults{HangToken: true, Optional: true})
	opt := fast(srv.URL)
	opt.TokenTimeout = 150 * time.Millisecond
	c := newClient(t, opt)
	// The overall deadline is far beyond the token timeout: the client
	// must decide by its own timeout, not by running out of time.
	ctx := ctxFor(t, time.Minute)
	for _, p := range []string{"instance-id", "local-ipv4"} {
		if _, err := c.GetMetadata(ctx, p); err != nil {
			t.Fatalf("GetMetadata(%s): %v", p, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("the overall deadline passed")
	}
	mode, why := c.Mode()
	if mode != "v1" || !strings.Contains(why, "150ms") {
		t.Errorf("Mode = %q, %q; want v1 naming the 150ms token timeout", mode, why)
	}
	reqs := srv.Settle(time.Second)
	if len(reqs) != 3 || reqs[0].Method != "PUT" || !reqs[0].Abandoned {
		t.Fatalf("requests = %+v; want one abandoned token PUT and two GETs", reqs)
	}
	for _, r := range reqs[1:] {
		if r.WithToken || r.Status != 200 {
			t.Errorf("GET %s: token %v status %d; want no token, 200", r.Path, r.WithToken, r.Status)
		}
	}
}

func TestHangingTokenWithV1Disabled(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.SetFaults(fakeimds.Faults{HangToken: true, Optional: true})
	opt := fast(srv.URL)
	opt.TokenTimeout = 100 * time.Millisecond
	opt.V1Disabled = true
	c := newClient(t, opt)
	ctx := ctxFor(t, time.Minute)
	_, err := c.GetMetadata(ctx, "instance-id")
	if !errors.Is(err, imds.ErrNoToken) || ctx.Err() != nil {
		t.Fatalf("err = %v (deadline %v), want ErrNoToken well before the deadline", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "hop limit") {
		t.Errorf("error gives no hint: %v", err)
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
		t.Errorf("token PUTs = %d, want 1", n)
	}
}

func TestTokenRequiredAfterHopLimitFallback(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.SetFaults(fakeimds.Faults{HangToken: true}) // tokens required, none to be had
	opt := fast(srv.URL)
	opt.TokenTimeout = 100 * time.Millisecond
	c := newClient(t, opt)
	ctx := ctxFor(t, time.Minute)
	_, err := c.GetMetadata(ctx, "instance-id")
	if !errors.Is(err, imds.ErrNoToken) || ctx.Err() != nil {
		t.Fatalf("err = %v, want ErrNoToken before the deadline", err)
	}
	if !strings.Contains(err.Error(), "hop limit") {
		t.Errorf("error gives no hint: %v", err)
	}
	// The fallback is undone once (the service may have been slow), then
	// the second silence is final.
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 2 {
		t.Errorf("token PUTs = %d, want 2", n)
	}
}

// A service too slow to answer the first token request, which then
// demands tokens: the client goes back to asking for one, and gets it.
func TestSlowFirstTokenThenV2(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.HangTokenNext(1)
	opt := fast(srv.URL)
	opt.TokenTimeout = 100 * time.Millisecond
	c := newClient(t, opt)
	got, err := c.GetMetadata(ctxFor(t, time.Minute), "instance-id")
	if err != nil || string(got) != "i-0123456789abcdef0" {
		t.Fatalf("GetMetadata = %q, %v", got, err)
	}
	if mode, _ := c.Mode(); mode != "v2" {
		t.Errorf("mode %q, want v2", mode)
	}
	var seq []string
	for _, r := range srv.Settle(time.Second) {
		seq = append(seq, fmt.Sprintf("%s %d %v", r.Method, r.Status, r.WithToken))
	}
	want := []string{"PUT 0 false", "GET 401 false", "PUT 200 false", "GET 200 true"}
	if diff := cmp.Diff(want, seq); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestTruncatedAnswerIsRetriedNeverReturned(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	srv.TruncateNext("/latest/meta-data/local-hostname", 2)
	c := newClient(t, fast(srv.URL))
	got, err := c.GetMetadata(ctxFor(t, 5*time.Second), "local-hostname")
	if err != nil {
		t.Fatal(err)
	}
	if want := "ip-10-1-2-3.eu-west-1.compute.internal"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := srv.Count("GET", "/latest/meta-data/local-hostname"); n != 3 {
		t.Errorf("GETs = %d, want 3", n)
	}
}

func TestOversizeAnswer(t *testing.T) {
	md := fakeimds.Metadata()
	md["/latest/user-data"] = strings.Repeat("x", 20<<10)
	srv := fakeimds.New(t, md)
	opt := fast(srv.URL)
	opt.MaxBody = 16 << 10
	c := newClient(t, opt)
	_, err := c.GetUserData(ctxFor(t, 5*time.Second))
	if !errors.Is(err, imds.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if n := srv.Count("GET", "/latest/user-data"); n != 1 {
		t.Errorf("GETs = %d, want 1 (size is not transient)", n)
	}
}

func TestSlowAnswersHitTheRequestTimeout(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	c := newClient(t, fast(srv.URL))
	ctx := ctxFor(t, 5*time.Second)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(fakeimds.Faults{Delay: 2 * time.Second})
	opt := fast(srv.URL)
	_, err := c.GetMetadata(ctxFor(t, 4*opt.RequestTimeout/2), "instance-id")
	if !errors.Is(err, imds.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	abandoned := 0
	for _, r := range srv.Settle(time.Second) {
		if r.Abandoned {
			abandoned++
		}
	}
	// Each attempt gave up after the request timeout; with a deadline of
	// two request timeouts there were at least two of them.
	if abandoned < 2 {
		t.Errorf("abandoned requests = %d, want at least 2", abandoned)
	}
}

func TestDisabledSendsNothing(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	opt := fast(srv.URL)
	opt.Disabled = true
	c := newClient(t, opt)
	ctx := ctxFor(t, time.Second)
	if _, err := c.GetMetadata(ctx, "instance-id"); !errors.Is(err, imds.ErrDisabled) {
		t.Errorf("Get: %v, want ErrDisabled", err)
	}
	if err := c.WaitReady(ctx); !errors.Is(err, imds.ErrDisabled) {
		t.Errorf("WaitReady: %v, want ErrDisabled", err)
	}
	if srv.Total() != 0 {
		t.Errorf("requests = %d, want 0", srv.Total())
	}
}

func TestBadPaths(t *testing.T) {
	c := newClient(t, fast("http://127.0.0.1:9"))
	for _, p := range []string{"/latest/../etc", "latest/meta-data/a b", "/x?y", "/a\nb", "/%2e%2e"} {
		if _, err := c.Get(context.Background(), p); err == nil || errors.Is(err, imds.ErrUnreachable) {
			t.Errorf("Get(%q) = %v, want a path error", p, err)
		}
	}
}

// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 selects [fd00:ec2::254]:
// checked on that very address inside a network namespace the test makes.
func TestIPv6DefaultEndpointInNetNS(t *testing.T) {
	if !netns.Reexec(t, []string{"addr", "add", "fd00:ec2::254/128", "dev", "lo"}) {
		return
	}
	srv := fakeimds.NewOn(t, "[fd00:ec2::254]:80", fakeimds.Metadata())
	env := map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"}
	opt := fast("")
	c, err := imds.NewFromEnv(opt, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != imds.DefaultEndpointIPv6 {
		t.Fatalf("endpoint %s, want %s", c.Endpoint(), imds.DefaultEndpointIPv6)
	}
	got, err := c.GetMetadata(ctxFor(t, 5*time.Second), "instance-id")
	if err != nil || string(got) != "i-0123456789abcdef0" {
		t.Fatalf("GetMetadata = %q, %v", got, err)
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
		t.Errorf("token PUTs = %d, want 1", n)
	}
}
