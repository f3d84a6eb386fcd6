package route53

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/ec2boot/ec2boot/bootstrap/awsconfig"
)

// SigningRegion is the region Route 53's global endpoint signs for. It is
// given explicitly: with an endpoint override the SDK would otherwise sign
// for whatever region the environment names.
const SigningRegion = "us-east-1"

// MaxAttempts bounds the SDK's retries of one call (throttling, 5xx): the
// first try and two retries with jittered exponential backoff of at most
// MaxBackoff, all within the caller's deadline.
const (
	MaxAttempts = 3
	MaxBackoff  = 2 * time.Second
)

// maxPages bounds the pages read for one name: the name's own sets and its
// ownership TXT sort next to each other, so one page is the rule; more
// only when the name has many names below it.
const maxPages = 5

// Config is one Route 53 account: a zone and how to write into it.
type Config struct {
	// ZoneID is the hosted zone's ID ("Z…", "/hostedzone/Z…" accepted);
	// otherwise Zone is looked up by name, Private choosing between a
	// public and a private zone of that name (nil: there must be one).
	ZoneID  string
	Zone    string
	Private *bool
	TTL     int64
	// Wait makes a run wait for the change to be INSYNC (within its
	// deadline); otherwise it ends with the change PENDING.
	Wait bool
	// IMDSEndpoint is the metadata service the instance role's
	// credentials come from: the one ec2boot itself reads.
	IMDSEndpoint string
	// Me is this instance, written into ownership records.
	Me Owner
	// Timeout bounds each API call, its retries included, inside the
	// caller's deadline (the step's budget); 0 leaves only the latter.
	Timeout time.Duration
}

// API is the part of the Route 53 client used here.
type API interface {
	ChangeResourceRecordSets(context.Context, *r53.ChangeResourceRecordSetsInput, ...func(*r53.Options)) (*r53.ChangeResourceRecordSetsOutput, error)
	ListResourceRecordSets(context.Context, *r53.ListResourceRecordSetsInput, ...func(*r53.Options)) (*r53.ListResourceRecordSetsOutput, error)
	ListHostedZonesByName(context.Context, *r53.ListHostedZonesByNameInput, ...func(*r53.Options)) (*r53.ListHostedZonesByNameOutput, error)
	GetChange(context.Context, *r53.GetChangeInput, ...func(*r53.Options)) (*r53.GetChangeOutput, error)
}

// Client is one account for one run: what it read is kept for the run, so
// that the decision, the plan's rendering and the compare-and-swap all use
// the same read.
type Client struct {
	cfg Config
	api API

	mu      sync.Mutex
	zoneID  string
	zoneErr error
	read    map[string]*Sets // fqdn -> what the API said this run
	readErr map[string]error
}

// Sets is what one List said about a name: its simple (no routing policy)
// A and AAAA sets and its ownership TXT; nil where there is none.
type Sets struct {
	A, AAAA, Owner *types.ResourceRecordSet
}

// New makes a client with credentials and endpoint as bootstrap/awsconfig
// reads them: the environment's keys, else the instance role through the
// metadata service at cfg.IMDSEndpoint; AWS_ENDPOINT_URL_ROUTE_53, else
// AWS_ENDPOINT_URL. It sends nothing.
func New(ctx context.Context, cfg Config) (*Client, error) {
	ac, err := awsconfig.New(awsconfig.Options{Region: SigningRegion, Service: "ROUTE_53", IMDSEndpoint: cfg.IMDSEndpoint,
		MaxAttempts: MaxAttempts, MaxBackoff: MaxBackoff})
	if err != nil {
		return nil, fmt.Errorf("AWS SDK configuration: %w", err)
	}
	api := r53.NewFromConfig(ac, func(o *r53.Options) { o.Region = SigningRegion })
	return NewWithAPI(cfg, api), nil
}

// NewWithAPI makes a client around api (tests, benchmarks).
func NewWithAPI(cfg Config, api API) *Client {
	if cfg.TTL == 0 {
		cfg.TTL = 300
	}
	c := &Client{cfg: cfg, api: api, read: map[string]*Sets{}, readErr: map[string]error{}}
	if cfg.ZoneID != "" {
		c.zoneID = strings.TrimPrefix(cfg.ZoneID, "/hostedzone/")
	}
	return c
}

// Zone returns the hosted zone's ID, looking it up by name once per run.
func (c *Client) Zone(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zoneID != "" || c.zoneErr != nil {
		return c.zoneID, c.zoneErr
	}
	id, err := c.findZone(ctx)
	if ctx.Err() == nil {
		// Kept for the run; an answer cut short by the caller's deadline
		// or cancellation is not.
		c.zoneID, c.zoneErr = id, err
	}
	return id, err
}

func (c *Client) findZone(ctx context.Context) (string, error) {
	want := fqdn(c.cfg.Zone)
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	out, err := c.api.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: aws.String(want), MaxItems: aws.Int32(10)})
	if err != nil {
		return "", &CallError{Op: "ListHostedZonesByName", Err: err}
	}
	var found []types.HostedZone
	for _, z := range out.HostedZones {
		// The list starts at the name and goes on with the next ones:
		// only an exact match counts.
		if fqdn(aws.ToString(z.Name)) != want {
			continue
		}
		private := z.Config != nil && z.Config.PrivateZone
		if c.cfg.Private != nil && *c.cfg.Private != private {
			continue
		}
		found = append(found, z)
	}
	switch {
	case len(found) == 0:
		which := "no hosted zone"
		if c.cfg.Private != nil {
			which = map[bool]string{true: "no private hosted zone", false: "no public hosted zone"}[*c.cfg.Private]
		}
		return "", &ZoneError{Msg: fmt.Sprintf("%s named %s in this account (set zone_id, or check zone and private)", which, want)}
	case len(found) > 1:
		return "", &ZoneError{Msg: fmt.Sprintf("%d hosted zones are named %s (a public and a private one): set private = true or false, or zone_id", len(found), want)}
	}
	return strings.TrimPrefix(aws.ToString(found[0].Id), "/hostedzone/"), nil
}

// Read returns what the API holds for name: one ListResourceRecordSets
// the first time in a run, the same answer after.
func (c *Client) Read(ctx context.Context, name string) (*Sets, error) {
	n := fqdn(name)
	c.mu.Lock()
	s, err := c.read[n], c.readErr[n]
	c.mu.Unlock()
	if s != nil || err != nil {
		return s, err
	}
	zone, err := c.Zone(ctx)
	if err == nil {
		s, err = c.list(ctx, zone, n)
	}
	c.mu.Lock()
	switch {
	case err == nil:
		c.read[n] = s
	case ctx.Err() == nil:
		c.readErr[n] = err
	}
	c.mu.Unlock()
	return s, err
}

// forget drops what was read about names, so the next Read asks again.
func (c *Client) forget(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		delete(c.read, fqdn(n))
		delete(c.readErr, fqdn(n))
	}
}

func (c *Client) list(ctx context.Context, zone, n string) (*Sets, error) {
	owner := OwnerName(n)
	s := &Sets{}
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String(n), MaxItems: aws.Int32(20)}
	for page := 0; page < maxPages; page++ {
		cctx, cancel := c.callCtx(ctx)
		out, err := c.api.ListResourceRecordSets(cctx, in)
		cancel()
		if err != nil {
			return nil, &CallError{Op: "ListResourceRecordSets", Zone: zone, Err: err}
		}
		for i := range out.ResourceRecordSets {
			rs := out.ResourceRecordSets[i]
			got := strings.ToLower(aws.ToString(rs.Name))
			if got != n && !strings.HasSuffix(got, "."+n) {
				return s, nil // past the name and everything below it
			}
			if rs.SetIdentifier != nil || rs.AliasTarget != nil {
				continue // a routing policy's or an alias: not ours
			}
			switch {
			case got == n && rs.Type == types.RRTypeA:
				s.A = &rs
			case got == n && rs.Type == types.RRTypeAaaa:
				s.AAAA = &rs
			case got == owner && rs.Type == types.RRTypeTxt:
				s.Owner = &rs
			}
		}
		if !out.IsTruncated {
			return s, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	return nil, &CallError{Op: "ListResourceRecordSets", Zone: zone,
		Err: fmt.Errorf("more than %d pages of records at and below %s", maxPages, n)}
}

// callCtx bounds one API call by the account's timeout.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// Addrs are the addresses a set carries, in the set's order.
func Addrs(rs *types.ResourceRecordSet) []netip.Addr {
	if rs == nil {
		return nil
	}
	var out []netip.Addr
	for _, r := range rs.ResourceRecords {
		if a, err := netip.ParseAddr(aws.ToString(r.Value)); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// OwnerOf reads the ownership TXT of s; found is false without one that
// ec2boot wrote.
func (s *Sets) OwnerOf() (Owner, bool) {
	if s == nil || s.Owner == nil {
		return Owner{}, false
	}
	for _, r := range s.Owner.ResourceRecords {
		if o, ok := ParseOwner(aws.ToString(r.Value)); ok {
			return o, true
		}
	}
	return Owner{}, false
}

// ZoneError says the configured zone could not be chosen.
type ZoneError struct{ Msg string }

func (e *ZoneError) Error() string { return e.Msg }

// CallError is a failed API call with the operation it was.
type CallError struct {
	Op, Zone string
	Err      error
}

func (e *CallError) Error() string {
	if e.Zone != "" {
		return fmt.Sprintf("route53 %s (zone %s): %v", e.Op, e.Zone, e.Err)
	}
	return fmt.Sprintf("route53 %s: %v", e.Op, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }
