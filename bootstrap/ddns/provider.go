// Package ddns registers this instance's names with dynamic DNS providers.
//
// Each run compares the address a record should carry with what the zone's
// authoritative servers answer (never a cache) and with what this instance
// last registered, and sends an update only on a mismatch, when a refresh is
// due, or when forced. Provider errors that need a human are remembered and
// block further updates until the configuration changes; temporary ones
// hold further attempts off for at least 30 minutes, across runs.
package ddns

import (
	"context"
	"net/netip"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/outcome"
)

// Change asks a provider to make one name carry exactly these addresses: one
// IPv4, one IPv6, or both (sent together, because some providers delete the
// other family when only one is given).
type Change struct {
	Name  string
	Addrs []netip.Addr
}

// Class says what a provider's answer means for the next run.
type Class = outcome.Class

// The classes of Outcome.
const (
	Success = outcome.Success
	Sticky  = outcome.Sticky
	HoldOff = outcome.HoldOff
	Failed  = outcome.Failed
)

// protocolOutcome is the outcome of one change as a protocol package
// (rfc2136, route53) reports it; account says the cause is the account
// (key, zone, IAM), not the name.
func protocolOutcome(class Class, code, detail string, account bool) Outcome {
	o := Outcome{Code: code, Class: class, Detail: detail, Scope: HostScope}
	if account {
		o.Scope = AccountScope
	}
	return o
}

// Scope says whether an outcome concerns the whole account or one name.
type Scope int

// The scopes of Outcome.
const (
	HostScope Scope = iota
	AccountScope
)

// Outcome is a provider's answer for one change.
type Outcome struct {
	// Code is the provider's word ("good", "badauth", "911"), or a short
	// transport description ("http 503", "timeout").
	Code   string
	Class  Class
	Scope  Scope
	Detail string // what it means and what to do, for the operator
	// Echo is the address text the provider sent back with good/nochg.
	Echo string
}

// Provider is one account at a dynamic DNS service. It is everything a new
// protocol (RFC 2136, Route 53) has to implement.
type Provider interface {
	// Batch splits changes into the requests that will be sent, in order.
	Batch(changes []Change) [][]Change
	// Describe renders the request for one batch exactly as it would be
	// sent, with secrets redacted.
	Describe(batch []Change) string
	// Send sends one batch and returns exactly one outcome per change, in
	// order. It never blocks past ctx's deadline.
	Send(ctx context.Context, batch []Change) []Outcome
}

// myIP renders addresses the way dyndns2 wants them: IPv4 first, then IPv6.
func myIP(addrs []netip.Addr) string {
	var v4, v6 []string
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	return strings.Join(append(v4, v6...), ",")
}
