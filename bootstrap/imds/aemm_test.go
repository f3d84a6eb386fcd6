package imds_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
)

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Against AWS's emulator in IMDSv2-only mode: tokens work, answers are the
// configured ones byte for byte, parallel reads share one token without
// upsetting it, and 404 is ErrNotFound.
func TestEmulatorIMDSv2Only(t *testing.T) {
	ud := gzipped(t, "[imds]\ntimeout = \"30s\"\n")
	srv := aemm.Start(t, aemm.Config{
		IMDSv2: true,
		Values: map[string]string{
			"instance-id":   "i-0aaaaaaaaaaaaaaa1",
			"local-ipv4":    "10.200.0.1",
			"instance-type": "t3.micro",
		},
		UserData: ud,
	})
	// The emulator really is v2-only: a bare GET is refused.
	resp, err := http.Get(srv.URL + "/latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET without token: HTTP %d, want 401", resp.StatusCode)
	}

	c := newClient(t, fast(srv.URL))
	ctx := ctxFor(t, 10*time.Second)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	want := map[string]string{
		"instance-id":   "i-0aaaaaaaaaaaaaaa1",
		"local-ipv4":    "10.200.0.1",
		"instance-type": "t3.micro",
		"mac":           "0e:49:61:0f:c3:11",
	}
	type answer struct {
		path, body string
		err        error
	}
	got := make(chan answer)
	for p := range want {
		go func() {
			b, err := c.GetMetadata(ctx, p)
			got <- answer{p, string(b), err}
		}()
	}
	have := map[string]string{}
	for range want {
		a := <-got
		if a.err != nil {
			t.Errorf("GetMetadata(%s): %v", a.path, a.err)
		}
		have[a.path] = a.body
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	body, err := c.GetUserData(ctx)
	if err != nil {
		t.Fatalf("GetUserData: %v", err)
	}
	if !bytes.Equal(body, ud) {
		t.Errorf("user-data: %d bytes, want the %d gzip bytes unchanged", len(body), len(ud))
	}
	if _, err := c.GetMetadata(ctx, "no-such-leaf-here"); !errors.Is(err, imds.ErrNotFound) {
		t.Errorf("unknown leaf: %v, want ErrNotFound", err)
	}
	if n := c.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if mode, _ := c.Mode(); mode != "v2" {
		t.Errorf("mode %q, want v2", mode)
	}
}

func TestEmulatorNoUserData(t *testing.T) {
	srv := aemm.Start(t, aemm.Config{IMDSv2: true, NoUserData: true})
	c := newClient(t, fast(srv.URL))
	b, err := c.GetUserData(ctxFor(t, 10*time.Second))
	if !errors.Is(err, imds.ErrNotFound) || b != nil {
		t.Fatalf("GetUserData = %q, %v; want nil, ErrNotFound", b, err)
	}
}

// The emulator expires tokens by their TTL; the client, whose clock says
// the token is still good, gets a 401 and must refresh once.
func TestEmulatorExpiredTokenRefreshed(t *testing.T) {
	srv := aemm.Start(t, aemm.Config{IMDSv2: true})
	opt := fast(srv.URL)
	opt.TokenTTL = time.Second
	opt.Clock = clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := newClient(t, opt)
	ctx := ctxFor(t, 10*time.Second)
	if _, err := c.GetMetadata(ctx, "instance-id"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the emulator's TTL is real time
	if _, err := c.GetMetadata(ctx, "instance-id"); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if n := c.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}
