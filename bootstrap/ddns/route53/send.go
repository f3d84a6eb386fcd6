package route53

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/outcome"
)

// Change makes one name carry exactly these addresses (one per family).
type Change struct {
	Name  string
	Addrs []netip.Addr
}

// Class is what a result means for the next run: Sticky when a human must
// act (IAM, zone, input), HoldOff when throttled past the retries, Failed
// when the next run should read and try again.
type Class = outcome.Class

// The classes of Result.
const (
	Success = outcome.Success
	Sticky  = outcome.Sticky
	HoldOff = outcome.HoldOff
	Failed  = outcome.Failed
)

// Result is the answer for one change.
type Result struct {
	Class   Class
	Code    string
	Detail  string
	Account bool // concerns every name of the account
}

// Owned asks for ownership records: Prev is, per name, the owner the
// caller read (nil: none), which the change batch requires to still be
// there. A nil *Owned writes no ownership records.
type Owned struct {
	Prev map[string]*Owner
}

// plan is the change batch for some changes, from what was read.
type plan struct {
	zone    string
	changes []types.Change
	names   []string // the names the batch is about, for forgetting
}

// build reads every name (cached for the run) and puts the changes into
// one batch: for each set that must change, a DELETE of exactly what was
// read and a CREATE of the new set, or a lone CREATE for a new set.
func (c *Client) build(ctx context.Context, batch []Change, owned *Owned) (*plan, error) {
	zone, err := c.Zone(ctx)
	if err != nil {
		return nil, err
	}
	p := &plan{zone: zone}
	for _, ch := range batch {
		s, err := c.Read(ctx, ch.Name)
		if err != nil {
			return nil, err
		}
		n := fqdn(ch.Name)
		p.names = append(p.names, n)
		before := len(p.changes)
		var want4, want6 []netip.Addr
		for _, a := range ch.Addrs {
			if a.Is4() {
				want4 = append(want4, a)
			} else {
				want6 = append(want6, a)
			}
		}
		for _, x := range []struct {
			typ  types.RRType
			old  *types.ResourceRecordSet
			want []netip.Addr
		}{{types.RRTypeA, s.A, want4}, {types.RRTypeAaaa, s.AAAA, want6}} {
			if len(x.want) == 0 || (x.old != nil && aws.ToInt64(x.old.TTL) == c.cfg.TTL && sameAddrs(Addrs(x.old), x.want)) {
				continue
			}
			p.swap(x.old, addrSet(n, x.typ, c.cfg.TTL, x.want))
		}
		if owned != nil {
			old := s.Owner
			if prev := owned.Prev[n]; prev == nil && old != nil {
				if _, ours := s.OwnerOf(); ours {
					// The caller saw no owner but one is there now.
					return nil, &raceError{name: n}
				}
			}
			mine := &types.ResourceRecordSet{Name: aws.String(OwnerName(n)), Type: types.RRTypeTxt, TTL: aws.Int64(c.cfg.TTL),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String(ownerValue(c.cfg.Me))}}}
			if len(p.changes) > before || old == nil || !sameValues(old, mine) {
				// Always part of a batch that changes addresses: the
				// DELETE of the owner read is the batch's condition.
				p.swap(old, mine)
			}
		}
	}
	return p, nil
}

func (p *plan) swap(old, now *types.ResourceRecordSet) {
	if old != nil {
		p.changes = append(p.changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: old})
	}
	p.changes = append(p.changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: now})
}

func addrSet(name string, typ types.RRType, ttl int64, addrs []netip.Addr) *types.ResourceRecordSet {
	rs := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, a := range addrs {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(a.String())})
	}
	return rs
}

func sameAddrs(a, b []netip.Addr) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, netip.Addr.Compare)
	slices.SortFunc(b, netip.Addr.Compare)
	return slices.Equal(a, b)
}

func sameValues(a, b *types.ResourceRecordSet) bool {
	if aws.ToInt64(a.TTL) != aws.ToInt64(b.TTL) || len(a.ResourceRecords) != len(b.ResourceRecords) {
		return false
	}
	for i := range a.ResourceRecords {
		if aws.ToString(a.ResourceRecords[i].Value) != aws.ToString(b.ResourceRecords[i].Value) {
			return false
		}
	}
	return true
}

// raceError: the owner the caller decided on is not the owner read now.
type raceError struct{ name string }

func (e *raceError) Error() string {
	return fmt.Sprintf("the ownership record of %s changed since it was read", e.name)
}

// Describe renders the change batch exactly as Send would send it, from
// what this run already read: with a ctx that is already done it asks
// nothing. There are no secrets in it (the request is signed with the
// role's keys, which are never shown).
func (c *Client) Describe(ctx context.Context, batch []Change, owned *Owned) string {
	p, err := c.build(ctx, batch, owned)
	if err != nil {
		return "route53: no change batch: " + err.Error()
	}
	if len(p.changes) == 0 {
		return "route53: nothing to change"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST /2013-04-01/hostedzone/%s/rrset (ChangeResourceRecordSets, one atomic batch, SigV4 %s)\n", p.zone, SigningRegion)
	for _, ch := range p.changes {
		rs := ch.ResourceRecordSet
		var vals []string
		for _, r := range rs.ResourceRecords {
			vals = append(vals, aws.ToString(r.Value))
		}
		fmt.Fprintf(&b, "  %-6s %s %d %s %s\n", ch.Action, aws.ToString(rs.Name), aws.ToInt64(rs.TTL), rs.Type, strings.Join(vals, " "))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Send makes the changes in one change batch and returns one result per
// change. With owned, the ownership TXT of each name is swapped in the
// same batch.
func (c *Client) Send(ctx context.Context, batch []Change, owned *Owned) []Result {
	all := func(r Result) []Result {
		out := make([]Result, len(batch))
		for i := range out {
			out[i] = r
		}
		return out
	}
	p, err := c.build(ctx, batch, owned)
	if err != nil {
		return all(classify(err, owned != nil))
	}
	if len(p.changes) == 0 {
		return all(Result{Class: Success, Code: "INSYNC", Detail: "the API already holds these values"})
	}
	cctx, cancel := c.callCtx(ctx)
	out, err := c.api.ChangeResourceRecordSets(cctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(p.zone),
		ChangeBatch:  &types.ChangeBatch{Comment: aws.String("ec2boot " + c.cfg.Me.InstanceID), Changes: p.changes},
	})
	cancel()
	// Whatever the answer, the next read must ask again.
	c.forget(p.names...)
	if err != nil {
		return all(classify(&CallError{Op: "ChangeResourceRecordSets", Zone: p.zone, Err: err}, owned != nil))
	}
	status := out.ChangeInfo.Status
	if c.cfg.Wait && status != types.ChangeStatusInsync {
		status = c.wait(ctx, aws.ToString(out.ChangeInfo.Id))
	}
	return all(Result{Class: Success, Code: string(status), Detail: "change " + aws.ToString(out.ChangeInfo.Id)})
}

// waitEvery is how often GetChange is asked while waiting for INSYNC.
const waitEvery = 2 * time.Second

// wait polls GetChange until INSYNC or ctx ends; a PENDING change is
// applied all the same, so running out of time is not an error.
func (c *Client) wait(ctx context.Context, id string) types.ChangeStatus {
	id = strings.TrimPrefix(id, "/change/")
	for {
		t := time.NewTimer(waitEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return types.ChangeStatusPending
		case <-t.C:
		}
		cctx, cancel := c.callCtx(ctx)
		out, err := c.api.GetChange(cctx, &r53.GetChangeInput{Id: aws.String(id)})
		cancel()
		if err == nil && out.ChangeInfo.Status == types.ChangeStatusInsync {
			return types.ChangeStatusInsync
		}
	}
}

// deniedRE takes the action and resource out of an AccessDenied message.
var deniedRE = regexp.MustCompile(`perform: (\S+) on resource: (\S+)`)

// classify turns an error into a result the step can act on.
func classify(err error, owned bool) Result {
	var re *raceError
	var ze *ZoneError
	var ae smithy.APIError
	var icb *types.InvalidChangeBatch
	code := "changed-elsewhere"
	if owned {
		code = "owner-changed"
	}
	switch {
	case errors.As(err, &re):
		return Result{Class: Failed, Code: code, Detail: re.Error() + "; nothing was sent; the next run reads it again"}
	case errors.As(err, &ze):
		return Result{Class: Sticky, Code: "zone", Detail: ze.Msg, Account: true}
	case errors.As(err, &icb):
		return Result{Class: Failed, Code: code, Detail: fmt.Sprintf("Route 53 refused the batch (InvalidChangeBatch: %s): a record changed since it was read; nothing was overwritten; the next run reads it again",
			strings.Join(icb.Messages, "; "))}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return Result{Class: Failed, Code: "timeout", Detail: err.Error()}
	case errors.As(err, &ae):
		switch ae.ErrorCode() {
		case "Throttling", "PriorRequestNotComplete", "ThrottlingException":
			return Result{Class: HoldOff, Code: ae.ErrorCode(), Account: true,
				Detail: fmt.Sprintf("Route 53 throttled this account (%s) through %d attempts with backoff: %v", ae.ErrorMessage(), MaxAttempts, err)}
		case "AccessDenied", "AccessDeniedException":
			what := "an action"
			if m := deniedRE.FindStringSubmatch(ae.ErrorMessage()); m != nil {
				what = m[1] + " on " + m[2]
			}
			return Result{Class: Sticky, Code: "AccessDenied", Account: true,
				Detail: fmt.Sprintf("the instance role may not perform %s: grant it (docs/dns.md, \"IAM policy\"): %s", what, ae.ErrorMessage())}
		case "NoSuchHostedZone":
			return Result{Class: Sticky, Code: "NoSuchHostedZone", Account: true, Detail: ae.ErrorMessage() + " (check zone_id)"}
		case "InvalidInput", "InvalidDomainName":
			return Result{Class: Sticky, Code: ae.ErrorCode(), Detail: ae.ErrorMessage()}
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "MissingAuthenticationToken":
			return Result{Class: Failed, Code: ae.ErrorCode(), Account: true, Detail: "the instance role's credentials were refused: " + ae.ErrorMessage()}
		}
		return Result{Class: Failed, Code: ae.ErrorCode(), Detail: err.Error()}
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		return Result{Class: Failed, Code: "retries", Detail: err.Error()}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return Result{Class: Failed, Code: "unparsable reply", Detail: err.Error()}
	}
	return Result{Class: Failed, Code: "error", Detail: err.Error()}
}
