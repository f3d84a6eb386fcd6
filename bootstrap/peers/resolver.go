package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Resolver looks up the A and AAAA addresses of a name.
type Resolver interface {
	Lookup(ctx context.Context, name string) ([]netip.Addr, error)
}

// ErrNoAddress means the name exists in no form we can use: NXDOMAIN, or no
// A and no AAAA records.
var ErrNoAddress = errors.New("no A or AAAA record")

// DirectResolver asks one nameserver itself, bypassing resolver caches, so a
// record a peer has just updated is seen at once.
type DirectResolver struct {
	Server string // "host:port"
}

// Lookup queries A and AAAA in parallel; the context's deadline bounds both.
func (r DirectResolver) Lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	type answer struct {
		addrs []netip.Addr
		err   error
	}
	qtypes := []uint16{dns.TypeA, dns.TypeAAAA}
	answers := make([]answer, len(qtypes))
	var wg sync.WaitGroup
	for i, qt := range qtypes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := r.query(ctx, name, qt)
			answers[i] = answer{a, err}
		}()
	}
	wg.Wait()
	var addrs []netip.Addr
	var errs []error
	for _, a := range answers {
		addrs = append(addrs, a.addrs...)
		if a.err != nil && !errors.Is(a.err, ErrNoAddress) {
			errs = append(errs, a.err)
		}
	}
	if len(addrs) > 0 {
		return addrs, nil
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return nil, ErrNoAddress
}

func (r DirectResolver) query(ctx context.Context, name string, qtype uint16) ([]netip.Addr, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	c := &dns.Client{Net: "udp"}
	resp, _, err := c.ExchangeContext(ctx, m, r.Server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.Server)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s @%s: %w", dns.TypeToString[qtype], name, r.Server, err)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, ErrNoAddress
	default:
		return nil, fmt.Errorf("%s %s @%s: %s", dns.TypeToString[qtype], name, r.Server, dns.RcodeToString[resp.Rcode])
	}
	var addrs []netip.Addr
	// The answer may be a CNAME chain; every A/AAAA in it belongs to the
	// name asked for.
	for _, rr := range resp.Answer {
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				addrs = append(addrs, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA); ok {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, ErrNoAddress
	}
	return addrs, nil
}

// SystemResolver uses the machine's resolver configuration (nsswitch,
// resolv.conf).
type SystemResolver struct{}

// Lookup asks the system resolver for A and AAAA.
func (SystemResolver) Lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(name, "."))
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return nil, ErrNoAddress
	}
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}
