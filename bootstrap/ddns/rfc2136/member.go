package rfc2136

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
)

// A role record is shared: every member adds its own address to the
// record's A (or AAAA) set and its own TXT record to the set at
// member.TXTName(record). Nothing here ever replaces a whole set, so two
// members publishing at once never undo each other; only pruning, which
// removes someone else's records, is made conditional on the TXT set being
// exactly what was read.

// Roster is a role record as the zone's primary holds it.
type Roster struct {
	Record  string
	Members []member.Member
	// Addrs are the addresses under the record, whoever put them there.
	Addrs []netip.Addr
	txt   []dns.RR // the TXT set as read, for the prune's prerequisite
}

// ReadRoster reads record's addresses and its members' TXT set from the
// zone's primary.
func (c *Client) ReadRoster(ctx context.Context, record string) (*Roster, error) {
	_, server, err := c.locate(ctx, record)
	if err != nil {
		return nil, err
	}
	r := &Roster{Record: dns.CanonicalName(record)}
	for _, q := range []struct {
		name string
		t    uint16
	}{{r.Record, dns.TypeA}, {r.Record, dns.TypeAAAA}, {member.TXTName(record), dns.TypeTXT}} {
		rrs, err := c.query(ctx, server, q.name, q.t)
		if err != nil {
			return nil, fmt.Errorf("reading the role record %s: %w", strings.TrimSuffix(r.Record, "."), err)
		}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(v.A.To4())
				r.Addrs = append(r.Addrs, a)
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(v.AAAA)
				r.Addrs = append(r.Addrs, a)
			case *dns.TXT:
				r.txt = append(r.txt, rr)
				if m, ok := member.Parse(strings.Join(v.Txt, "")); ok {
					r.Members = append(r.Members, m)
				}
			}
		}
	}
	return r, nil
}

// query reads one set from server, which must answer authoritatively.
func (c *Client) query(ctx context.Context, server, name string, t uint16) ([]dns.RR, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, t)
	q.RecursionDesired = false
	r, err := c.exchange(ctx, server, q, time.Time{})
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s answered %s for %s %s", server, dns.RcodeToString[r.Rcode], name, dns.TypeToString[t])
	}
	if !r.Authoritative {
		return nil, fmt.Errorf("%s is not authoritative for %s", server, name)
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == t && dns.CanonicalName(rr.Header().Name) == name {
			out = append(out, rr)
		}
	}
	return out, nil
}

// Mine returns the records of instance in r.
func (r *Roster) Mine(instance string) []member.Member {
	var out []member.Member
	for _, m := range r.Members {
		if m.InstanceID == instance {
			out = append(out, m)
		}
	}
	return out
}

// claimed reports whether a member other than the ones in but claims a.
func (r *Roster) claimed(a netip.Addr, but string) bool {
	for _, m := range r.Members {
		if m.InstanceID != but && m.Addr == a {
			return true
		}
	}
	return false
}

// Publish makes me a member of r.Record: it deletes exactly the records
// r holds for me.InstanceID (an older refresh, an old address) and adds
// me's address and TXT, in one UPDATE. Only single records are added and
// deleted, never a set, so no other member's record is touched and no
// prerequisite is needed: adding a record that is there and deleting one
// that is not are no-ops, so a publish that races a prune of the same
// member still leaves it published.
func (c *Client) Publish(ctx context.Context, r *Roster, me member.Member) Result {
	return c.sendMember(ctx, r.Record, func(m *dns.Msg) {
		for _, old := range r.Mine(me.InstanceID) {
			if old.Addr != me.Addr && !r.claimed(old.Addr, me.InstanceID) {
				m.Remove([]dns.RR{addrRR(r.Record, old.Addr, 0)})
			}
			m.Remove([]dns.RR{memberRR(r.Record, old, 0)})
		}
		m.Insert([]dns.RR{addrRR(r.Record, me.Addr, c.TTL), memberRR(r.Record, me, c.TTL)})
	})
}

// Withdraw removes every record r holds for instance: its TXT and its
// address (unless another member claims the same address). It is what a
// member leaving cleanly sends.
func (c *Client) Withdraw(ctx context.Context, r *Roster, instance string) Result {
	mine := r.Mine(instance)
	if len(mine) == 0 {
		return Result{Code: "current", Class: Success, Detail: "no record of " + instance + " under " + strings.TrimSuffix(r.Record, ".") + "; nothing sent"}
	}
	return c.sendMember(ctx, r.Record, func(m *dns.Msg) { c.removeAll(m, r, mine, instance) })
}

// Prune removes the records of another member, on condition that the TXT
// set is still exactly what r read: if the member refreshed meanwhile (or
// anyone else changed the set), the server answers NXRRSET and nothing is
// removed.
func (c *Client) Prune(ctx context.Context, r *Roster, stale member.Member) Result {
	return c.sendMember(ctx, r.Record, func(m *dns.Msg) {
		m.Used(copyRRs(r.txt))
		c.removeAll(m, r, []member.Member{stale}, stale.InstanceID)
	})
}

func (c *Client) removeAll(m *dns.Msg, r *Roster, gone []member.Member, instance string) {
	for _, old := range gone {
		if !r.claimed(old.Addr, instance) {
			m.Remove([]dns.RR{addrRR(r.Record, old.Addr, 0)})
		}
		m.Remove([]dns.RR{memberRR(r.Record, old, 0)})
	}
}

// sendMember signs and sends an UPDATE of record's zone that build fills.
func (c *Client) sendMember(ctx context.Context, record string, build func(*dns.Msg)) Result {
	zone, server, err := c.locate(ctx, record)
	if err != nil {
		return Result{Code: "no zone", Class: Failed, Account: true, Detail: err.Error()}
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	build(m)
	signed := c.Clock.Now()
	reply, err := c.exchange(ctx, server, m, signed)
	return classify(reply, err, replyContext{server: server, zone: zone, key: c.Key.Name, names: strings.TrimSuffix(record, "."), signed: signed})
}

func memberRR(record string, m member.Member, ttl uint32) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: member.TXTName(record), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
		Txt: []string{m.Value()}}
}

// List implements member.Roster.
func (r *Roster) List() []member.Member { return r.Members }

// Members puts a client behind member.Registry.
type Members struct{ C *Client }

var _ member.Registry = Members{}

// Read implements member.Registry.
func (m Members) Read(ctx context.Context, record string) (member.Roster, error) {
	return m.C.ReadRoster(ctx, record)
}

// Publish implements member.Registry.
func (m Members) Publish(ctx context.Context, r member.Roster, me member.Member) error {
	return resultErr(m.C.Publish(ctx, r.(*Roster), me))
}

// Withdraw implements member.Registry.
func (m Members) Withdraw(ctx context.Context, r member.Roster, instance string) error {
	return resultErr(m.C.Withdraw(ctx, r.(*Roster), instance))
}

// Prune implements member.Registry: NXRRSET is the condition failing.
func (m Members) Prune(ctx context.Context, r member.Roster, stale member.Member) error {
	res := m.C.Prune(ctx, r.(*Roster), stale)
	if res.Code == "NXRRSET" {
		return fmt.Errorf("%w: %s", member.ErrRaced, res.Detail)
	}
	return resultErr(res)
}

func resultErr(r Result) error {
	if r.Class == Success {
		return nil
	}
	return fmt.Errorf("%s: %s", r.Code, r.Detail)
}
