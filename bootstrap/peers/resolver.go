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

	"github.com/ec2boot/ec2boot/bootstrap/dnsclient"
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
	// Exchange's errors name the server, the name and the type.
	resp, err := dnsclient.Exchange(ctx, r.Server, name, qtype, true)
	if err != nil {
		return nil, err
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, ErrNoAddress
	default:
		return nil, fmt.Errorf("%s answered %s for %s %s", r.Server, dnsclient.RcodeText(resp.Rcode),
			strings.TrimSuffix(name, "."), dnsclient.TypeText(qtype))
	}
	var addrs []netip.Addr
	// The answer may be a CNAME chain; every A/AAAA in it belongs to the
	// name asked for.
	for _, rr := range resp.Answer {
		if (rr.Type == dns.TypeA || rr.Type == dns.TypeAAAA) && rr.Addr.IsValid() {
			addrs = append(addrs, rr.Addr)
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
