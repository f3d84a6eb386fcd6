package systemtest

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/netns"
)

// datedVersion matches the first path segment of the metadata service's
// dated API versions ("/2021-03-23/meta-data/…").
var datedVersion = regexp.MustCompile(`^/\d{4}-\d{2}-\d{2}(/|$)`)

// serveDatedIMDS stands in front of the metadata emulator inside an
// instance's namespace, at listen (host:port), for cloud-init. The real
// service answers every dated API version as well as /latest; cloud-init's
// Ec2 datasource asks only for dated ones, and the emulator serves only
// /latest, so each dated prefix is rewritten to /latest and nothing else is
// touched. It also lets one token request through at a time: the
// emulator's token store crashes on concurrent ones, and cloud-init and
// ec2boot may ask at the same moment.
//
// It remembers each request's client and whether it carried a token.
func serveDatedIMDS(t *testing.T, ns, listen, backend string) *datedIMDS {
	t.Helper()
	d := &datedIMDS{}
	path := "/run/netns/" + ns
	l, err := netns.Listen(path, "tcp", listen)
	if err != nil {
		t.Fatalf("dated metadata front in %s: %v", ns, err)
	}
	target := &url.URL{Scheme: "http", Host: backend}
	var tokens sync.Mutex
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path, r.Out.URL.RawPath = latestPath(r.In.URL.Path), ""
			// The real service sees the client's own Host; keep it.
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{DialContext: netns.Dialer(path), DisableKeepAlives: true},
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d.record(imdsRequest{method: r.Method, path: r.URL.Path, agent: r.UserAgent(),
				token: r.Header.Get("X-aws-ec2-metadata-token") != ""})
			if r.Method == http.MethodPut {
				tokens.Lock()
				defer tokens.Unlock()
			}
			proxy.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return d
}

// datedIMDS is the front's record of what it served.
type datedIMDS struct {
	mu   sync.Mutex
	seen []imdsRequest
}

type imdsRequest struct {
	method, path, agent string
	token               bool
}

func (d *datedIMDS) record(r imdsRequest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = append(d.seen, r)
}

// requests returns what clients whose User-Agent contains agent asked.
func (d *datedIMDS) requests(agent string) []imdsRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []imdsRequest
	for _, r := range d.seen {
		if strings.Contains(r.agent, agent) {
			out = append(out, r)
		}
	}
	return out
}

// latestPath rewrites a dated version prefix to /latest.
func latestPath(p string) string {
	m := datedVersion.FindString(p)
	if m == "" {
		return p
	}
	return "/latest/" + strings.TrimPrefix(p[len(m):], "/")
}

// The rewrite keeps everything but a dated version prefix.
func TestDatedVersionRewrite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/2021-03-23/meta-data/instance-id", "/latest/meta-data/instance-id"},
		{"/2009-04-04/user-data", "/latest/user-data"},
		{"/2016-09-02/", "/latest/"},
		{"/2016-09-02", "/latest/"},
		{"/latest/api/token", "/latest/api/token"},
		{"/20210323/meta-data/", "/20210323/meta-data/"},
	} {
		if got := latestPath(tc.in); got != tc.want {
			t.Errorf("%s -> %s, want %s", tc.in, got, tc.want)
		}
	}
}
