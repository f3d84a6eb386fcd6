package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultTimeout bounds an exchange whose context has no deadline: a lost
// datagram would otherwise be waited for forever.
const DefaultTimeout = 5 * time.Second

// udpSize is the UDP payload size advertised in the query's EDNS0 OPT
// record: 1232 bytes crosses any path without IP fragmentation (DNS flag
// day 2020), and larger answers come back truncated and are asked again
// over TCP.
const udpSize = 1232

// readSize is the UDP read buffer. It is larger than the advertised
// udpSize so that a server that ignores the advertisement is still read
// whole rather than cut.
const readSize = 4096

// Exchange asks server ("host:port") one question about name and returns
// its reply: over UDP, and again over TCP when the UDP answer is
// truncated. Recurse sets RD (ask a resolver) or clears it (ask an
// authoritative server). The context bounds the whole exchange.
//
// A reply with an error rcode (NXDOMAIN, REFUSED...) is a reply, not an
// error; errors are for replies that never came or cannot be read, and
// name the server, the name and the type.
func Exchange(ctx context.Context, server, name string, qtype uint16, recurse bool) (*Reply, error) {
	m, err := exchange(ctx, server, dns.Fqdn(name), qtype, recurse)
	if err != nil {
		return nil, fmt.Errorf("asking %s for %s %s: %w", server, strings.TrimSuffix(name, "."), TypeText(qtype), err)
	}
	return reduce(m), nil
}

func exchange(ctx context.Context, server, fqdn string, qtype uint16, recurse bool) (*dns.Msg, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return nil, fmt.Errorf("building the query: %q is not a domain name", fqdn)
	}
	q := newQuery(fqdn, qtype, recurse)
	r, err := exchangeOn(ctx, "udp", server, q)
	if err != nil || !r.Truncated {
		return r, err
	}
	r, err = exchangeOn(ctx, "tcp", server, q)
	if err != nil {
		return nil, fmt.Errorf("over TCP (the UDP answer was truncated): %w", err)
	}
	return r, nil
}

// newQuery is one question with an EDNS0 OPT record. SetQuestion gives it
// a random ID (from crypto/rand): with the random source port the kernel
// picks, it is what keeps a forger who cannot see the query from
// answering it.
func newQuery(fqdn string, qtype uint16, recurse bool) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(fqdn, qtype)
	q.RecursionDesired = recurse
	q.SetEdns0(udpSize, false)
	return q
}

// exchangeOn sends q over network and reads its reply. Over UDP anyone can
// send a datagram to the query's port, so one that is not the reply is
// ignored and the wait goes on until the context ends; over TCP nobody
// else can slip a reply in, and one that does not match comes from a
// broken server, so it is an error at once.
func exchangeOn(ctx context.Context, network, server string, q *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: network, UDPSize: readSize}
	co, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, ioError(ctx, err)
	}
	// The context's deadline becomes the connection's, and ending the
	// context closes it, so that no read or write outlives the context.
	stop := context.AfterFunc(ctx, func() { co.Close() })
	defer func() {
		stop()
		co.Close()
	}()
	deadline, _ := ctx.Deadline() // always set: exchange sees to it
	if err := co.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if err := co.WriteMsg(q); err != nil {
		return nil, ioError(ctx, err)
	}
	ignored := 0
	var last error
	for {
		r, err := co.ReadMsg()
		if r == nil && !errors.Is(err, dns.ErrShortRead) {
			// Nothing was read: the connection failed or timed out.
			if network == "tcp" {
				return nil, tcpError(ctx, err)
			}
			err = ioError(ctx, err)
			if ignored > 0 {
				err = fmt.Errorf("%w (ignored %d datagram(s); the last: %v)", err, ignored, last)
			}
			return nil, err
		}
		r, err = check(q, r, err)
		if network == "udp" && isMismatch(err) {
			ignored, last = ignored+1, err
			continue
		}
		return r, err
	}
}

// tcpError says why a TCP reply did not come whole.
func tcpError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, io.EOF) && ctx.Err() == nil:
		return errors.New("the server closed the connection without a reply")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("reply cut short: %w", err)
	}
	return ioError(ctx, err)
}

// ioError gives the reason an exchange's I/O stopped. Closing the
// connection when the context ends makes it report "use of closed network
// connection", which hides why; the context's reason is the one to give,
// and an expired deadline reads as the timeout it is. A *net.OpError's
// addresses are dropped: Exchange's message names the server already.
func ioError(ctx context.Context, err error) error {
	if op, ok := err.(*net.OpError); ok && op.Err != nil {
		err = op.Err
	}
	cerr := ctx.Err()
	switch {
	case cerr == nil, errors.Is(err, os.ErrDeadlineExceeded):
		return err
	case errors.Is(cerr, context.DeadlineExceeded):
		return fmt.Errorf("%w (%w)", os.ErrDeadlineExceeded, cerr)
	default:
		return cerr
	}
}
