package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/outcome"
)

// Fudge is the TSIG time window (RFC 8945 recommends 300 s): a server whose
// clock differs from ours by more answers BADTIME.
const Fudge = 300

// maxUDP is the largest UPDATE sent over UDP; larger ones go over TCP
// straight away (512 bytes is what any server accepts without EDNS0).
const maxUDP = 512

// Clock gives the time TSIG signatures carry.
type Clock interface{ Now() time.Time }

// Change makes one name carry exactly Addrs: an A set when Addrs has IPv4
// addresses, an AAAA set when it has IPv6 ones. A family Addrs does not
// mention is left alone.
type Change struct {
	Name  string
	Addrs []netip.Addr
	// Owner, when set, is written as the ownership TXT record next to the
	// name in the same UPDATE, compare-and-swapped like the addresses
	// (see owner.go).
	Owner *Owner
	// CheckOwner makes the change conditional on the ownership record
	// read at the server still being PrevOwner (nil: no record). When it
	// is not, the change is not sent and its Result has Code
	// "owner-changed".
	CheckOwner bool
	PrevOwner  *Owner
}

// Class says what a reply means for the next run: Sticky when a human
// must act (key, policy, zone), HoldOff when the server is in trouble,
// Failed when the next run should read and try again.
type Class = outcome.Class

// The classes of Result.
const (
	Success = outcome.Success
	Sticky  = outcome.Sticky
	HoldOff = outcome.HoldOff
	Failed  = outcome.Failed
)

// Result is what happened to one change.
type Result struct {
	Code    string // "NOERROR", "REFUSED", "NOTAUTH(BADSIG)", "timeout"...
	Class   Class
	Account bool   // the cause is the account (key, zone, server), not the name
	Detail  string // one line for the operator
	// PrevOwner is the ownership TXT the server held before this update
	// (read for the compare-and-swap), nil when there was none or when the
	// change carried no Owner.
	PrevOwner *Owner
}

// Client sends updates for one account.
type Client struct {
	// Server is the primary's "host:port"; "" uses the zone's SOA MNAME,
	// resolved through Resolvers, on port 53.
	Server string
	// Zone is the zone updated; "" finds it by asking for the name's SOA.
	Zone string
	Key  Key
	TTL  uint32
	// Timeout bounds each exchange (the context may end it earlier).
	Timeout time.Duration
	Clock   Clock
	// Resolvers ("host:port") find the zone and its primary when Zone or
	// Server is not configured.
	Resolvers []string
	// Port is the port of a primary found through the SOA ("53" when
	// empty; tests use another).
	Port string

	// beforeSend runs between reading the current values and sending the
	// update (tests put a concurrent writer there).
	beforeSend func()
}

// Send applies changes: per zone, one read of the current values and one
// UPDATE. It returns one Result per change, in order.
func (c *Client) Send(ctx context.Context, changes []Change) []Result {
	out := make([]Result, len(changes))
	groups, order := map[string][]int{}, []string{}
	servers := map[string]string{}
	for i, ch := range changes {
		zone, server, err := c.locate(ctx, ch.Name)
		if err != nil {
			out[i] = Result{Code: "no zone", Class: Failed, Account: true, Detail: err.Error()}
			continue
		}
		if _, ok := groups[zone]; !ok {
			order = append(order, zone)
		}
		groups[zone] = append(groups[zone], i)
		servers[zone] = server
	}
	for _, zone := range order {
		idx := groups[zone]
		batch := make([]Change, len(idx))
		for j, i := range idx {
			batch[j] = changes[i]
		}
		for j, r := range c.sendZone(ctx, zone, servers[zone], batch) {
			out[idx[j]] = r
		}
	}
	return out
}

// current is what the server holds for one change.
type current struct {
	exists bool // the name has some record (not NXDOMAIN)
	sets   map[uint16][]dns.RR
}

func (c *Client) sendZone(ctx context.Context, zone, server string, batch []Change) []Result {
	all := func(r Result) []Result {
		out := make([]Result, len(batch))
		for i := range out {
			out[i] = r
		}
		return out
	}
	cur := make([]current, len(batch))
	for i, ch := range batch {
		got, err := c.read(ctx, server, ch)
		if err != nil {
			return all(Result{Code: transportCode(err), Class: Failed, Account: true,
				Detail: fmt.Sprintf("reading the current values from %s: %v; the next run tries again", server, err)})
		}
		cur[i] = got
	}
	if out, ok := c.ownerChanged(ctx, zone, server, batch, cur); ok {
		return out
	}
	m, prev := c.build(zone, batch, cur)
	if len(m.Ns) == 0 {
		return all(Result{Code: "current", Class: Success, Detail: "the server already holds these values; nothing sent"})
	}
	if c.beforeSend != nil {
		c.beforeSend()
	}
	signed := c.Clock.Now()
	reply, err := c.exchange(ctx, server, m, signed)
	res := classify(reply, err, replyContext{server: server, zone: zone, key: c.Key.Name, names: names(batch), signed: signed})
	if res.Class == Sticky && !res.Account && len(batch) > 1 {
		// The server refuses the whole message for one name it does not
		// grant. Asking name by name keeps the others from being blocked
		// (and blocked for good: removing the denied name would not change
		// their configuration).
		out := make([]Result, len(batch))
		for i, ch := range batch {
			out[i] = c.sendZone(ctx, zone, server, []Change{ch})[0]
		}
		return out
	}
	out := all(res)
	for i := range out {
		out[i].PrevOwner = prev[i]
	}
	return out
}

// ownerChanged handles changes whose owner is not the one the caller
// expects: they get "owner-changed" and the others are sent without them.
func (c *Client) ownerChanged(ctx context.Context, zone, server string, batch []Change, cur []current) ([]Result, bool) {
	var keep []int
	out := make([]Result, len(batch))
	for i, ch := range batch {
		if !ch.CheckOwner {
			keep = append(keep, i)
			continue
		}
		now := ownerOf(cur[i].sets[dns.TypeTXT])
		if sameOwner(now, ch.PrevOwner) {
			keep = append(keep, i)
			continue
		}
		who := "nobody"
		if now != nil {
			who = now.InstanceID + " (launched " + now.LaunchTime.UTC().Format(time.RFC3339) + ")"
		}
		out[i] = Result{Code: "owner-changed", Class: Failed, PrevOwner: now,
			Detail: fmt.Sprintf("the ownership record of %s changed since it was read: %s owns it now; nothing sent, the next run decides again", strings.TrimSuffix(ch.Name, "."), who)}
	}
	if len(keep) == len(batch) {
		return nil, false
	}
	if len(keep) > 0 {
		rest := make([]Change, len(keep))
		for j, i := range keep {
			rest[j] = batch[i]
		}
		for j, r := range c.sendZone(ctx, zone, server, rest) {
			out[keep[j]] = r
		}
	}
	return out, true
}

func sameOwner(a, b *Owner) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.InstanceID == b.InstanceID && a.LaunchTime.Equal(b.LaunchTime)
}

// ReadOwner returns name's ownership record (nil when there is none) and
// the addresses it carries, as the zone's primary holds them.
func (c *Client) ReadOwner(ctx context.Context, name string) (*Owner, []netip.Addr, error) {
	_, server, err := c.locate(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	probe := Change{Name: name, Addrs: []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}, Owner: &Owner{}}
	cur, err := c.read(ctx, server, probe)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the owner of %s from %s: %w", strings.TrimSuffix(name, "."), server, err)
	}
	var addrs []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range cur.sets[t] {
			switch v := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(v.A.To4())
				addrs = append(addrs, a)
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(v.AAAA)
				addrs = append(addrs, a)
			}
		}
	}
	return ownerOf(cur.sets[dns.TypeTXT]), addrs, nil
}

func names(batch []Change) string {
	n := make([]string, len(batch))
	for i, ch := range batch {
		n[i] = strings.TrimSuffix(ch.Name, ".")
	}
	return strings.Join(n, ", ")
}

// types lists the record types a change replaces.
func types(ch Change) []uint16 {
	var t []uint16
	if slices.ContainsFunc(ch.Addrs, func(a netip.Addr) bool { return a.Is4() }) {
		t = append(t, dns.TypeA)
	}
	if slices.ContainsFunc(ch.Addrs, func(a netip.Addr) bool { return !a.Is4() }) {
		t = append(t, dns.TypeAAAA)
	}
	return t
}

// read asks the server for the sets a change replaces.
func (c *Client) read(ctx context.Context, server string, ch Change) (current, error) {
	cur := current{sets: map[uint16][]dns.RR{}}
	qs := []string{dns.CanonicalName(ch.Name)}
	ts := [][]uint16{types(ch)}
	if ch.Owner != nil {
		qs = append(qs, OwnerName(ch.Name))
		ts = append(ts, []uint16{dns.TypeTXT})
	}
	for k, name := range qs {
		for _, t := range ts[k] {
			q := new(dns.Msg)
			q.SetQuestion(name, t)
			q.RecursionDesired = false
			r, err := c.exchange(ctx, server, q, time.Time{})
			if err != nil {
				return cur, err
			}
			switch r.Rcode {
			case dns.RcodeSuccess:
				if k == 0 {
					cur.exists = true
				}
			case dns.RcodeNameError:
			default:
				return cur, fmt.Errorf("%s answered %s for %s %s", server, dns.RcodeToString[r.Rcode], name, dns.TypeToString[t])
			}
			if !r.Authoritative {
				return cur, fmt.Errorf("%s is not authoritative for %s", server, name)
			}
			for _, rr := range r.Answer {
				if rr.Header().Rrtype == t && dns.CanonicalName(rr.Header().Name) == name {
					cur.sets[t] = append(cur.sets[t], rr)
				}
			}
		}
	}
	return cur, nil
}

// build makes the UPDATE for batch given what the server holds. A change
// whose sets already hold exactly the wanted values adds nothing.
func (c *Client) build(zone string, batch []Change, cur []current) (*dns.Msg, []*Owner) {
	m := new(dns.Msg)
	m.SetUpdate(zone)
	prev := make([]*Owner, len(batch))
	for i, ch := range batch {
		name := dns.CanonicalName(ch.Name)
		want := map[uint16][]dns.RR{}
		for _, a := range ch.Addrs {
			want[typeOf(a)] = append(want[typeOf(a)], addrRR(name, a, c.TTL))
		}
		var ownerPre, ownerUpd []dns.RR
		if ch.Owner != nil {
			old := cur[i].sets[dns.TypeTXT]
			prev[i] = ownerOf(old)
			if !sameValues(old, []dns.RR{OwnerRR(*ch.Owner, name, c.TTL)}) {
				ownerPre, ownerUpd = OwnerRRs(name, *ch.Owner, old, c.TTL)
			}
		}
		changed := len(ownerUpd) > 0
		for _, t := range types(ch) {
			changed = changed || !sameValues(cur[i].sets[t], want[t])
		}
		if !changed {
			continue
		}
		if !cur[i].exists {
			m.NameNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: name}}})
		}
		for _, t := range types(ch) {
			if old := cur[i].sets[t]; len(old) > 0 {
				m.Used(copyRRs(old))
			} else if cur[i].exists {
				m.RRsetNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: t}}})
			}
			m.RemoveRRset([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: t}}})
			m.Insert(want[t])
		}
		m.Answer = append(m.Answer, ownerPre...)
		m.Ns = append(m.Ns, ownerUpd...)
	}
	return m, prev
}

func typeOf(a netip.Addr) uint16 {
	if a.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

func addrRR(name string, a netip.Addr, ttl uint32) dns.RR {
	h := dns.RR_Header{Name: name, Rrtype: typeOf(a), Class: dns.ClassINET, Ttl: ttl}
	if a.Is4() {
		return &dns.A{Hdr: h, A: a.AsSlice()}
	}
	return &dns.AAAA{Hdr: h, AAAA: a.AsSlice()}
}

func copyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// sameValues compares two sets by rdata, ignoring TTL and order.
func sameValues(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(rr dns.RR) string {
		h := *rr.Header()
		return strings.TrimPrefix(rr.String(), h.String())
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// exchange sends m over UDP, or TCP when it is large or the UDP reply is
// truncated. A non-zero signed time signs m with the key at that time.
// The reply is returned even with an error when one arrived (a reply
// whose TSIG does not verify, say), so its rcode can still be read.
func (c *Client) exchange(ctx context.Context, server string, m *dns.Msg, signed time.Time) (*dns.Msg, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	try := func(network string) (*dns.Msg, error) {
		msg := m.Copy()
		cl := &dns.Client{Net: network, UDPSize: dns.MaxMsgSize}
		if !signed.IsZero() {
			msg.SetTsig(c.Key.Name, c.Key.Algorithm, Fudge, signed.Unix())
			cl.TsigSecret = map[string]string{c.Key.Name: c.Key.Secret}
		}
		r, _, err := cl.ExchangeContext(ctx, msg, server)
		if err != nil && r != nil && !tsigFailure(err) {
			// A reply that does not parse comes back half-read: none of
			// it can be trusted.
			return nil, err
		}
		if err == nil && r != nil && !signed.IsZero() && r.IsTsig() == nil && r.Rcode == dns.RcodeSuccess {
			// RFC 8945: a signed request's success must come signed; an
			// unsigned "yes" could be anyone's.
			err = errors.New("the reply carries no TSIG")
		}
		return r, err
	}
	if m.Len() > maxUDP {
		return try("tcp")
	}
	r, err := try("udp")
	if r != nil && r.Truncated {
		return try("tcp")
	}
	return r, err
}

// tsigFailure reports whether err is miekg/dns's verdict on a reply's
// signature (the reply itself was read whole).
func tsigFailure(err error) bool {
	for _, e := range []error{dns.ErrSig, dns.ErrTime, dns.ErrKeyAlg, dns.ErrSecret, dns.ErrKey, dns.ErrNoSig, dns.ErrAuth} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// locate returns the zone of name and the server to update it on.
func (c *Client) locate(ctx context.Context, name string) (zone, server string, err error) {
	zone, server = c.Zone, c.Server
	if zone != "" && server != "" {
		return dns.CanonicalName(zone), server, nil
	}
	var mname string
	zone, mname, err = c.findSOA(ctx, name)
	if err != nil {
		return "", "", err
	}
	if c.Zone != "" {
		zone = dns.CanonicalName(c.Zone)
	}
	if server != "" {
		return zone, server, nil
	}
	ip, err := c.resolve(ctx, mname)
	if err != nil {
		return "", "", fmt.Errorf("finding the primary server %s of %s (set server): %w", strings.TrimSuffix(mname, "."), zone, err)
	}
	port := c.Port
	if port == "" {
		port = "53"
	}
	return zone, net.JoinHostPort(ip, port), nil
}

// findSOA asks the configured server (or the resolvers) for name's SOA: the
// answer (at an apex) or the authority section names the zone and MNAME.
func (c *Client) findSOA(ctx context.Context, name string) (string, string, error) {
	servers, recurse := c.Resolvers, true
	if c.Server != "" {
		servers, recurse = []string{c.Server}, false
	}
	var errs []error
	for _, s := range servers {
		q := new(dns.Msg)
		q.SetQuestion(dns.CanonicalName(name), dns.TypeSOA)
		q.RecursionDesired = recurse
		r, err := c.exchange(ctx, s, q, time.Time{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, sec := range [][]dns.RR{r.Answer, r.Ns} {
			for _, rr := range sec {
				if soa, ok := rr.(*dns.SOA); ok {
					return dns.CanonicalName(soa.Hdr.Name), soa.Ns, nil
				}
			}
		}
		errs = append(errs, fmt.Errorf("%s answered %s without a SOA", s, dns.RcodeToString[r.Rcode]))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no resolver in resolv.conf"))
	}
	return "", "", fmt.Errorf("finding the zone of %s (set zone): %w", strings.TrimSuffix(name, "."), errors.Join(errs...))
}

func (c *Client) resolve(ctx context.Context, host string) (string, error) {
	var errs []error
	for _, s := range c.Resolvers {
		q := new(dns.Msg)
		q.SetQuestion(dns.CanonicalName(host), dns.TypeA)
		r, err := c.exchange(ctx, s, q, time.Time{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				return a.A.String(), nil
			}
		}
		errs = append(errs, fmt.Errorf("%s has no address for it", s))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no resolver in resolv.conf"))
	}
	return "", errors.Join(errs...)
}
