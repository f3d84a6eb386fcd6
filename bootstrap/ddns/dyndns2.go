package ddns

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
)

// maxHostsPerRequest is Dyn's limit; more names in one request get numhost.
const maxHostsPerRequest = 20

// maxBody bounds how much of a reply is read.
const maxBody = 64 << 10

// UserAgent is what ec2boot calls itself: product, version and a contact,
// as Dyn and No-IP require.
func UserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "ec2boot/" + version + " (+https://github.com/ec2boot/ec2boot)"
}

// Dyndns2 speaks the dyndns2 protocol (GET /nic/update) to one account.
type Dyndns2 struct {
	base      *url.URL // scheme://host[:port]
	path      string
	username  string
	password  config.Secret
	perReq    int
	wildcard  string
	mx        string
	backmx    string
	offline   bool
	timeout   time.Duration
	userAgent string
	client    *http.Client
}

// NewDyndns2 builds the provider for one account; password is the resolved
// secret (from password or password_file). client may be nil.
func NewDyndns2(a config.Account, password config.Secret, userAgent string, client *http.Client) (*Dyndns2, error) {
	raw := a.Server
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw // https unless http:// is written out
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("server %q is not an https (or explicit http) URL", config.RedactURL(a.Server))
	}
	if client == nil {
		client = NewHTTPClient()
	}
	d := &Dyndns2{
		base: &url.URL{Scheme: u.Scheme, Host: u.Host}, path: a.Path,
		username: a.Username, password: password, perReq: maxHostsPerRequest,
		wildcard: a.Wildcard, mx: a.MX, backmx: a.BackMX, offline: a.Offline,
		timeout: a.Timeout.Duration, userAgent: userAgent, client: client,
	}
	if d.path == "" {
		d.path = "/nic/update"
	}
	if a.OneHostPerRequest {
		d.perReq = 1
	}
	return d, nil
}

// NewHTTPClient is the client providers use: no redirects (credentials must
// not follow them elsewhere), TLS 1.2 or newer, proxies from the environment.
func NewHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     10 * time.Second,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Batch groups names sharing one address set into requests of at most 20
// names (or one, for providers that refuse lists). Order is kept.
func (d *Dyndns2) Batch(changes []Change) [][]Change {
	var out [][]Change
	index := map[string]int{} // myip -> the open batch for it
	for _, c := range changes {
		key := myIP(c.Addrs)
		if i, ok := index[key]; ok && len(out[i]) < d.perReq {
			out[i] = append(out[i], c)
			continue
		}
		index[key] = len(out)
		out = append(out, []Change{c})
	}
	return out
}

// requestURL builds the update URL. Parameters are written in a fixed,
// conventional order (hostname, myip, then options) rather than sorted, and
// commas and colons are left literal, as every dyndns2 server expects.
func (d *Dyndns2) requestURL(batch []Change) string {
	names := make([]string, len(batch))
	for i, c := range batch {
		names[i] = url.QueryEscape(strings.TrimSuffix(c.Name, "."))
	}
	q := "hostname=" + strings.Join(names, ",") + "&myip=" + myIP(batch[0].Addrs)
	if d.wildcard != "" {
		q += "&wildcard=" + d.wildcard
	}
	if d.mx != "" {
		q += "&mx=" + url.QueryEscape(d.mx)
	}
	if d.backmx != "" {
		q += "&backmx=" + d.backmx
	}
	if d.offline {
		q += "&offline=YES"
	}
	u := *d.base
	u.Path = d.path
	u.RawQuery = q
	return u.String()
}

// Describe shows the request as it would go out, password redacted.
func (d *Dyndns2) Describe(batch []Change) string {
	return fmt.Sprintf("GET %s\n  Authorization: Basic %s:[redacted]\n  User-Agent: %s",
		d.requestURL(batch), d.username, d.userAgent)
}

// Send performs one update request.
func (d *Dyndns2) Send(ctx context.Context, batch []Change) []Outcome {
	if d.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.timeout)
		defer cancel()
	}
	all := func(o Outcome) []Outcome {
		out := make([]Outcome, len(batch))
		for i := range out {
			out[i] = o
		}
		return out
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.requestURL(batch), nil)
	if err != nil {
		return all(Outcome{Code: "bad request", Class: Failed, Scope: AccountScope, Detail: err.Error()})
	}
	// Pre-emptive Basic auth, as the protocol expects: no 401 round trip.
	req.SetBasicAuth(d.username, d.password.Reveal())
	req.Header.Set("User-Agent", d.userAgent)
	req.Header.Set("Accept", "text/plain")
	resp, err := d.client.Do(req)
	if err != nil {
		return all(transportOutcome(ctx, d.base.Host, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return all(transportOutcome(ctx, d.base.Host, err))
	}
	// Whatever the provider sends back ends up in logs, status and state;
	// a server that echoes the request must not put the password there.
	body = []byte(d.scrub(string(body)))
	resp.Status = d.scrub(resp.Status)
	resp.Header.Set("Location", d.scrub(resp.Header.Get("Location")))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		info, _ := lookupCode("badauth")
		return all(Outcome{Code: fmt.Sprintf("http %d", resp.StatusCode), Class: Sticky, Scope: AccountScope, Detail: info.detail})
	case resp.StatusCode >= 500:
		return all(Outcome{Code: fmt.Sprintf("http %d", resp.StatusCode), Class: HoldOff, Scope: AccountScope,
			Detail: "the provider's server failed; it is left alone for 30 minutes"})
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return all(Outcome{Code: fmt.Sprintf("http %d", resp.StatusCode), Class: Failed, Scope: AccountScope,
			Detail: fmt.Sprintf("redirected to %q, which is not followed with credentials; set the account's server to the new address", printable(resp.Header.Get("Location")))})
	case resp.StatusCode != http.StatusOK:
		return all(Outcome{Code: fmt.Sprintf("http %d", resp.StatusCode), Class: Failed, Scope: AccountScope,
			Detail: fmt.Sprintf("unexpected HTTP status %q", printable(resp.Status))})
	}
	out, _ := Assign(ParseResponse(body), len(batch))
	return out
}

// scrub replaces the password, in every form a server could echo it (as
// given, as user:password, and as the Basic credential), with [redacted].
func (d *Dyndns2) scrub(s string) string {
	pw := d.password.Reveal()
	if pw == "" {
		return s
	}
	userPass := d.username + ":" + pw
	forms := []string{
		base64.StdEncoding.EncodeToString([]byte(userPass)),
		base64.RawStdEncoding.EncodeToString([]byte(userPass)),
		base64.URLEncoding.EncodeToString([]byte(userPass)),
		userPass,
		url.QueryEscape(pw),
		url.PathEscape(pw),
		pw,
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return s
}

// transportOutcome describes a request that got no usable answer.
func transportOutcome(ctx context.Context, host string, err error) Outcome {
	code := "connection error"
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		code = "timeout"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		code = "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		code = "connection refused"
	}
	return Outcome{Code: code, Class: Failed, Scope: AccountScope,
		Detail: fmt.Sprintf("no answer from %s: %v; the next run tries again", host, redactURLError(err))}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// redactURLError drops the URL from *url.Error: it is long and the query is
// noise in a one-line message.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
