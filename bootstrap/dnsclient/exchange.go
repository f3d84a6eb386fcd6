package dnsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DefaultTimeout bounds an exchange whose context has no deadline: a lost
// datagram would otherwise be waited for forever.
const DefaultTimeout = 5 * time.Second

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
func Exchange(ctx context.Context, server, name string, qtype dnsmessage.Type, recurse bool) (*Reply, error) {
	r, err := exchange(ctx, server, Fqdn(name), qtype, recurse)
	if err != nil {
		return nil, fmt.Errorf("asking %s for %s %s: %w", server, strings.TrimSuffix(name, "."), TypeText(qtype), err)
	}
	return r, nil
}

func exchange(ctx context.Context, server, fqdn string, qtype dnsmessage.Type, recurse bool) (*Reply, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	qname, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return nil, fmt.Errorf("building the query: %w", err)
	}
	q := dnsmessage.Question{Name: qname, Type: qtype, Class: dnsmessage.ClassINET}
	// A random ID (with the random source port the kernel picks) is what
	// keeps a forger who cannot see the query from answering it.
	id := uint16(rand.Uint32())
	query, err := buildQuery(id, q, recurse)
	if err != nil {
		return nil, fmt.Errorf("building the query: %w", err)
	}
	r, err := exchangeUDP(ctx, server, query, id, q)
	if err != nil || !r.Truncated {
		return r, err
	}
	r, err = exchangeTCP(ctx, server, query, id, q)
	if err != nil {
		return nil, fmt.Errorf("over TCP (the UDP answer was truncated): %w", err)
	}
	return r, nil
}

// exchangeUDP sends query and waits for its reply, ignoring datagrams that
// are not it until the context ends.
func exchangeUDP(ctx context.Context, server string, query []byte, id uint16, q dnsmessage.Question) (*Reply, error) {
	conn, err := dial(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.Write(query); err != nil {
		return nil, ioError(ctx, err)
	}
	buf := make([]byte, readSize)
	ignored := 0
	var last error
	for {
		n, err := conn.Read(buf)
		if err != nil {
			err = ioError(ctx, err)
			if ignored > 0 {
				err = fmt.Errorf("%w (ignored %d datagram(s); the last: %v)", err, ignored, last)
			}
			return nil, err
		}
		r, err := parseReply(buf[:n], id, q)
		if isMismatch(err) {
			ignored, last = ignored+1, err
			continue
		}
		return r, err
	}
}

// exchangeTCP sends query with the 2-byte length prefix of RFC 1035
// section 4.2.2 and reads one reply framed the same way.
func exchangeTCP(ctx context.Context, server string, query []byte, id uint16, q dnsmessage.Question) (*Reply, error) {
	conn, err := dial(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(query)), uint16(len(query)))
	if _, err := conn.Write(append(msg, query...)); err != nil {
		return nil, ioError(ctx, err)
	}
	var length [2]byte
	if _, err := io.ReadFull(conn, length[:]); err != nil {
		if errors.Is(err, io.EOF) && ctx.Err() == nil {
			return nil, errors.New("the server closed the connection without a reply")
		}
		return nil, fmt.Errorf("reading the reply length: %w", ioError(ctx, err))
	}
	buf := make([]byte, binary.BigEndian.Uint16(length[:]))
	if n, err := io.ReadFull(conn, buf); err != nil {
		return nil, fmt.Errorf("reply cut short after %d of %d bytes: %w", n, len(buf), ioError(ctx, err))
	}
	// Over TCP nobody else can slip a reply in: one that does not match
	// comes from a broken server, and waiting longer will not help.
	return parseReply(buf, id, q)
}

// dial connects to server and ties the connection to ctx: its deadline
// becomes the connection's, and ending ctx closes it, so that no read or
// write outlives the context.
func dial(ctx context.Context, network, server string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, ioError(ctx, err)
	}
	deadline, _ := ctx.Deadline() // always set: exchange sees to it
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, err
	}
	return &ctxConn{Conn: conn, stop: context.AfterFunc(ctx, func() { conn.Close() })}, nil
}

// ctxConn stops closing its connection on ctx's end once closed itself.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
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
