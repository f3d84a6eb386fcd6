package ddns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/dnsclient"
)

// queryTimeout bounds one DNS query; an authoritative server on the other
// side of the world answers well within it.
const queryTimeout = 2 * time.Second

// Checker asks DNS what a name carries right now. With a check server it
// asks that server; otherwise it finds the zone's authoritative servers
// through the system resolver and asks them directly, so that no cache can
// hide a record changed elsewhere.
type Checker struct {
	// Server, when set, is asked directly ("host:port").
	Server string
	// Resolvers are "host:port" recursive resolvers used only to find the
	// zone and its name servers (from resolv.conf).
	Resolvers []string
	// NSPort is the port authoritative servers are asked on ("53").
	NSPort string

	mu      sync.Mutex
	zones   map[string][]string // zone -> authoritative "ip:port"
	dead    map[string]error    // servers that did not answer: not asked again this run
	queries int
	// discover serialises finding a zone's servers, so that parallel
	// lookups in one zone find them once.
	discover sync.Mutex
}

// NewChecker returns a checker reading its resolvers from resolvConf (a
// path already under --root) unless server is set.
func NewChecker(server, resolvConf string) (*Checker, error) {
	c := &Checker{Server: server, NSPort: "53"}
	if server != "" {
		return c, nil
	}
	resolvers, err := dnsclient.ReadResolvConf(resolvConf)
	if err != nil {
		return nil, err // names the file
	}
	c.Resolvers = resolvers
	return c, nil
}

// Queries is how many DNS queries the checker sent.
func (c *Checker) Queries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queries
}

// Where says which servers answer for name, for messages.
func (c *Checker) Where(name string) string {
	if c.Server != "" {
		return c.Server
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for zone, ns := range c.zones {
		if dns.IsSubDomain(zone, name) {
			return "the authoritative servers of " + strings.TrimSuffix(zone, ".") + " (" + strings.Join(ns, ", ") + ")"
		}
	}
	return "the authoritative servers"
}

// Lookup returns the addresses of type qtype (dns.TypeA or
// dns.TypeAAAA) that name carries; an empty list when it has none.
func (c *Checker) Lookup(ctx context.Context, name string, qtype uint16) ([]netip.Addr, error) {
	fqdn := dns.Fqdn(strings.ToLower(name))
	if c.Server != "" {
		return c.ask(ctx, []string{c.Server}, fqdn, qtype, true)
	}
	servers, err := c.authoritative(ctx, fqdn)
	if err != nil {
		return nil, err
	}
	return c.ask(ctx, servers, fqdn, qtype, false)
}

// ask tries servers in turn until one gives a usable answer.
func (c *Checker) ask(ctx context.Context, servers []string, fqdn string, qtype uint16, recurse bool) ([]netip.Addr, error) {
	var errs []error
	for _, s := range servers {
		m, err := c.exchange(ctx, s, fqdn, qtype, recurse)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch m.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
		default:
			errs = append(errs, fmt.Errorf("%s answered %s for %s", s, dnsclient.RcodeText(m.Rcode), fqdn))
			continue
		}
		if !recurse && !m.Authoritative {
			errs = append(errs, fmt.Errorf("%s is not authoritative for %s", s, fqdn))
			continue
		}
		var out []netip.Addr
		// The answer may be a CNAME chain: every record of the type asked
		// for in it belongs to the name.
		for _, rr := range m.Answer {
			if rr.Type == qtype && rr.Addr.IsValid() {
				out = append(out, rr.Addr.Unmap())
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("DNS check of %s: %w", strings.TrimSuffix(fqdn, "."), errors.Join(errs...))
}

func (c *Checker) exchange(ctx context.Context, server, fqdn string, qtype uint16, recurse bool) (*dnsclient.Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if err := c.dead[server]; err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.queries++
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	r, err := dnsclient.Exchange(ctx, server, fqdn, qtype, recurse)
	if err != nil {
		// Exchange's error names the server and the name. A server that
		// does not answer once would cost the full timeout for every
		// record; one try per run is enough.
		c.mu.Lock()
		if c.dead == nil {
			c.dead = map[string]error{}
		}
		c.dead[server] = err
		c.mu.Unlock()
		return nil, err
	}
	return r, nil
}

// authoritative finds the addresses of the name servers of fqdn's zone.
func (c *Checker) authoritative(ctx context.Context, fqdn string) ([]string, error) {
	if ns, ok := c.known(fqdn); ok {
		return ns, nil
	}
	c.discover.Lock()
	defer c.discover.Unlock()
	if ns, ok := c.known(fqdn); ok {
		return ns, nil // found by a parallel lookup while this one waited
	}
	zone, err := c.findZone(ctx, fqdn)
	if err != nil {
		return nil, err
	}
	m, err := c.resolve(ctx, zone, dns.TypeNS)
	if err != nil {
		return nil, err
	}
	var servers []string
	for _, rr := range m.Answer {
		if rr.Type != dns.TypeNS {
			continue
		}
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			addrs, err := c.ask(ctx, c.Resolvers, rr.Target, qt, true)
			if err != nil {
				continue
			}
			for _, a := range addrs {
				servers = append(servers, net.JoinHostPort(a.String(), c.NSPort))
			}
		}
		if len(servers) >= 4 {
			break // enough to ride out one dead server
		}
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("DNS check of %s: no reachable name server for zone %s", strings.TrimSuffix(fqdn, "."), zone)
	}
	c.mu.Lock()
	if c.zones == nil {
		c.zones = map[string][]string{}
	}
	c.zones[zone] = servers
	c.mu.Unlock()
	return servers, nil
}

// known returns the servers of fqdn's zone when they were found already.
func (c *Checker) known(fqdn string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for zone, ns := range c.zones {
		if dns.IsSubDomain(zone, fqdn) {
			return ns, true
		}
	}
	return nil, false
}

// findZone asks the resolver for fqdn's SOA: the answer (at a zone apex) or
// the authority section (below it) names the zone.
func (c *Checker) findZone(ctx context.Context, fqdn string) (string, error) {
	m, err := c.resolve(ctx, fqdn, dns.TypeSOA)
	if err != nil {
		return "", err
	}
	for _, sec := range [][]dnsclient.Record{m.Answer, m.Authority} {
		for _, rr := range sec {
			if rr.Type == dns.TypeSOA {
				return rr.Name, nil // lower case and absolute
			}
		}
	}
	return "", fmt.Errorf("DNS check of %s: no zone found (no SOA from %s)", strings.TrimSuffix(fqdn, "."), strings.Join(c.Resolvers, ", "))
}

func (c *Checker) resolve(ctx context.Context, name string, qtype uint16) (*dnsclient.Reply, error) {
	var errs []error
	for _, s := range c.Resolvers {
		m, err := c.exchange(ctx, s, name, qtype, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("%s answered %s for %s", s, dnsclient.RcodeText(m.Rcode), name))
			continue
		}
		return m, nil
	}
	return nil, fmt.Errorf("DNS check of %s: %w", strings.TrimSuffix(name, "."), errors.Join(errs...))
}
