package facts_test

import (
	"errors"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/ec2detect"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/internal/testpeer/fakeimds"
)

func openStore(t *testing.T, dir, id string) *state.Store {
	t.Helper()
	s, err := state.Open(dir, id, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaveCachedWritesOnlyChanges(t *testing.T) {
	dir := t.TempDir()
	f := fullFacts()
	f.Warnings = []string{"something"}
	store := openStore(t, dir, f.InstanceID)
	if err := facts.SaveCached(store, f, t0); err != nil {
		t.Fatal(err)
	}
	st1, err := os.Stat(store.Path(facts.CacheName))
	if err != nil {
		t.Fatal(err)
	}
	// A later run with the same facts, gathered at another time.
	g := fullFacts()
	g.GatheredAt = t0.Add(time.Hour)
	if err := facts.SaveCached(store, g, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(store.Path(facts.CacheName))
	if !st1.ModTime().Equal(st2.ModTime()) || !os.SameFile(st1, st2) {
		t.Errorf("unchanged facts rewrote the cache")
	}
	got, by, since, found, err := facts.LoadCached(openStore(t, dir, ""))
	if err != nil || !found {
		t.Fatalf("LoadCached: %v, found %v", err, found)
	}
	want := fullFacts()
	want.GatheredAt, want.Source = time.Time{}, ""
	if diff := cmp.Diff(want, got, addrEq); diff != "" {
		t.Errorf("cached (-want +got):\n%s", diff)
	}
	if by != f.InstanceID || !since.Equal(t0) {
		t.Errorf("saved by %q since %s", by, since)
	}
}

func TestSaveCachedRefusals(t *testing.T) {
	dir := t.TempDir()
	f := fullFacts()
	if err := facts.SaveCached(openStore(t, dir, "i-0ther"), f, t0); err == nil {
		t.Errorf("saved facts into another instance's state")
	}
	f.Source = facts.SourceCache
	if err := facts.SaveCached(openStore(t, dir, f.InstanceID), f, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, facts.CacheName+".json")); !os.IsNotExist(err) {
		t.Errorf("facts from the cache were cached again (stat: %v)", err)
	}
}

func TestFallbackToCache(t *testing.T) {
	cached := fullFacts()
	tests := []struct {
		name     string
		cacheID  string // "" = no cache
		cacheIP  string
		hint     string
		ifaces   []string
		wantErr  bool
		wantID   string
		wantIP   string
		wantPub  string
		degraded string
		warning  string
		savedAt  time.Time // default t0, the test clock's now
	}{
		{name: "own cache", cacheID: cached.InstanceID, cacheIP: "10.1.2.3", hint: cached.InstanceID,
			ifaces: []string{"10.1.2.3"}, wantID: cached.InstanceID, wantIP: "10.1.2.3", wantPub: "203.0.113.7",
			degraded: "using the last known facts (unchanged since 2026-11-27T03:00:00Z)"},
		{name: "cache saved by a clock in 2099", cacheID: cached.InstanceID, cacheIP: "10.1.2.3", hint: cached.InstanceID,
			ifaces: []string{"10.1.2.3"}, wantID: cached.InstanceID, wantIP: "10.1.2.3", wantPub: "203.0.113.7",
			savedAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), degraded: "using the last known facts (unchanged since 2026-11-27T03:00:00Z)"},
		{name: "cache, no DMI to confirm", cacheID: cached.InstanceID, cacheIP: "10.1.2.3",
			ifaces: []string{"10.1.2.3"}, wantID: cached.InstanceID, wantIP: "10.1.2.3", wantPub: "203.0.113.7",
			degraded: "cannot confirm they are this instance's"},
		{name: "cached address gone", cacheID: cached.InstanceID, cacheIP: "10.1.2.3", hint: cached.InstanceID,
			ifaces: []string{"10.9.8.7"}, wantID: cached.InstanceID, wantIP: "10.9.8.7", wantPub: "203.0.113.7",
			degraded: "last known facts", warning: "cached local-ipv4 10.1.2.3 is on no interface; using 10.9.8.7 from eth0"},
		{name: "image's cache, Nitro knows better", cacheID: "i-0badbadbadbadbad0", cacheIP: "10.7.7.7", hint: cached.InstanceID,
			ifaces: []string{"10.1.2.3"}, wantID: cached.InstanceID, wantIP: "10.1.2.3",
			degraded: "the cached facts are i-0badbadbadbadbad0's, not i-0123456789abcdef0's"},
		{name: "no cache, Nitro", hint: cached.InstanceID, ifaces: []string{"10.1.2.3"},
			wantID: cached.InstanceID, wantIP: "10.1.2.3", degraded: "no cached facts for i-0123456789abcdef0"},
		{name: "nothing at all", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.cacheID != "" {
				c := fullFacts()
				c.InstanceID, c.LocalIPv4 = tt.cacheID, netip.MustParseAddr(tt.cacheIP)
				saved := t0
				if !tt.savedAt.IsZero() {
					saved = tt.savedAt
				}
				if err := facts.SaveCached(openStore(t, dir, tt.cacheID), c, saved); err != nil {
					t.Fatal(err)
				}
			}
			srv := fakeimds.New(t, fakeimds.Metadata())
			srv.Down()
			o := opts(tt.ifaces...)
			o.Cache = openStore(t, dir, "")
			o.InstanceIDHint = tt.hint
			got, err := facts.Gather(ctxFor(t, 200*time.Millisecond), client(t, srv.URL), o)
			if tt.wantErr {
				if err == nil || !errors.Is(err, imds.ErrUnreachable) || !strings.Contains(err.Error(), "no cached facts") {
					t.Fatalf("Gather = %v, %v; want an error wrapping ErrUnreachable", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Gather: %v", err)
			}
			if got.Source != facts.SourceCache || got.InstanceID != tt.wantID || got.LocalIPv4.String() != tt.wantIP {
				t.Errorf("got %s %s from %q; want %s %s from cache", got.InstanceID, got.LocalIPv4, got.Source, tt.wantID, tt.wantIP)
			}
			if pub := got.PublicIPv4; (tt.wantPub == "" && pub.IsValid()) || (tt.wantPub != "" && pub.String() != tt.wantPub) {
				t.Errorf("public-ipv4 %v, want %q", pub, tt.wantPub)
			}
			if !strings.HasPrefix(got.Degraded, "instance metadata unavailable (") ||
				!strings.Contains(got.Degraded, "connection refused") || !strings.Contains(got.Degraded, tt.degraded) {
				t.Errorf("Degraded = %q, want the cause and %q", got.Degraded, tt.degraded)
			}
			if tt.warning != "" && !slicesContains(got.Warnings, tt.warning) {
				t.Errorf("warnings %q, want %q", got.Warnings, tt.warning)
			}
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// failTransport fails the test on any request: off EC2 nothing may be sent.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("request sent off EC2: %s %s", r.Method, r.URL)
	return nil, errors.New("must not be sent")
}

func TestNotOnEC2SendsNothing(t *testing.T) {
	root := t.TempDir() // no DMI at all
	md, err := facts.NewMetadata(facts.MetadataOptions{
		Root: hostfs.Root(root),
		IMDS: imds.Options{HTTPClient: &http.Client{Transport: failTransport{t}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = md.Facts(ctxFor(t, time.Minute), config.IMDS{})
	if !errors.Is(err, ec2detect.ErrNotEC2) || !strings.Contains(err.Error(), "sys_vendor absent") {
		t.Fatalf("Facts: %v, want ErrNotEC2 with evidence", err)
	}
	if md.Client() != nil {
		t.Errorf("a client was made")
	}
}

func TestEndpointFromConfigSkipsDetection(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	md, err := facts.NewMetadata(facts.MetadataOptions{
		Root:             hostfs.Root(t.TempDir()),
		Interfaces:       ifaces("10.1.2.3"),
		LookupEnv:        func(string) (string, bool) { return "", false },
		PrefetchUserData: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.IMDS{Endpoint: srv.URL}
	cfg.Timeout.Duration = 5 * time.Second
	cfg.RequestTimeout.Duration = 500 * time.Millisecond
	f, err := md.Facts(ctxFor(t, time.Minute), cfg)
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	if f.InstanceID != "i-0123456789abcdef0" {
		t.Errorf("InstanceID %q", f.InstanceID)
	}
	// The user-data went out with the facts' values (the one wave after
	// the listing), so it is there before it is asked for.
	for end := time.Now().Add(2 * time.Second); srv.Count("GET", "/latest/user-data") == 0 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if n := srv.Count("GET", "/latest/user-data"); n != 1 {
		t.Errorf("user-data GETs before UserData = %d, want 1 (sent with the facts)", n)
	}
	ud, err := md.UserData(ctxFor(t, 5*time.Second))
	if err != nil || string(ud) != "[imds]\n" {
		t.Errorf("UserData = %q, %v", ud, err)
	}
	if n := srv.Count("GET", "/latest/user-data"); n != 1 {
		t.Errorf("user-data GETs = %d, want the one sent with the facts", n)
	}
	srv.Delete("/latest/user-data")
	if ud, err := md.UserData(ctxFor(t, 5*time.Second)); err != nil || ud != nil {
		t.Errorf("absent user-data = %q, %v; want nil, nil", ud, err)
	}
	if n := srv.Count("PUT", fakeimds.TokenPath); n != 1 {
		t.Errorf("token PUTs = %d, want 1 for facts and user-data together", n)
	}
}

func TestDisabledByEnvironment(t *testing.T) {
	root := t.TempDir()
	writeDMI(t, root, "Amazon EC2", "i-0123456789abcdef0")
	env := map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}
	dir := t.TempDir()
	if err := facts.SaveCached(openStore(t, dir, "i-0123456789abcdef0"), fullFacts(), t0); err != nil {
		t.Fatal(err)
	}
	md, err := facts.NewMetadata(facts.MetadataOptions{
		Root:       hostfs.Root(root),
		IMDS:       imds.Options{HTTPClient: &http.Client{Transport: failTransport{t}}},
		LookupEnv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Interfaces: ifaces("10.1.2.3"),
		Cache:      openStore(t, dir, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := md.Facts(ctxFor(t, time.Minute), config.IMDS{})
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	if f.Source != facts.SourceCache || !strings.Contains(f.Degraded, "AWS_EC2_METADATA_DISABLED=true") {
		t.Errorf("got %q facts, degraded %q", f.Source, f.Degraded)
	}
}

func writeDMI(t *testing.T, root, vendor, asset string) {
	t.Helper()
	d := filepath.Join(root, "sys/devices/virtual/dmi/id")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"sys_vendor": vendor, "board_asset_tag": asset} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNotOnEC2IgnoresTheCache(t *testing.T) {
	dir := t.TempDir()
	if err := facts.SaveCached(openStore(t, dir, "i-0123456789abcdef0"), fullFacts(), t0); err != nil {
		t.Fatal(err)
	}
	md, err := facts.NewMetadata(facts.MetadataOptions{
		Root:  hostfs.Root(t.TempDir()),
		IMDS:  imds.Options{HTTPClient: &http.Client{Transport: failTransport{t}}},
		Cache: openStore(t, dir, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := md.Facts(ctxFor(t, time.Minute), config.IMDS{})
	if !errors.Is(err, ec2detect.ErrNotEC2) || f != nil {
		t.Fatalf("Facts = %v, %v; want ErrNotEC2 and no facts", f, err)
	}
}

// TestNoUserDataUnlessAsked: a caller that reads only the facts (ec2boot
// facts) sends no user-data request.
func TestNoUserDataUnlessAsked(t *testing.T) {
	srv := fakeimds.New(t, fakeimds.Metadata())
	md, err := facts.NewMetadata(facts.MetadataOptions{
		Root:       hostfs.Root(t.TempDir()),
		Interfaces: ifaces("10.1.2.3"),
		LookupEnv:  func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.IMDS{Endpoint: srv.URL}
	cfg.Timeout.Duration = 5 * time.Second
	if _, err := md.Facts(ctxFor(t, time.Minute), cfg); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Settle(5 * time.Second)
	if n := srv.Count("GET", "/latest/user-data"); n != 0 {
		t.Errorf("user-data GETs = %d, want none (%d requests in all)", n, len(reqs))
	}
}
