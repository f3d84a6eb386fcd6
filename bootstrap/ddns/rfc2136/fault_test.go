package rfc2136

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
)

// faultServer answers queries as an empty authoritative zone and answers
// UPDATEs with a fault: over UDP with reply(); over TCP (same port) with
// tcpRcode, unsigned.
type faultServer struct {
	addr     string
	tcpSeen  atomic.Int32
	reply    func(req *dns.Msg, raw []byte) []byte
	tcpRcode int
}

func startFault(t *testing.T, reply func(req *dns.Msg, raw []byte) []byte, tcpRcode int) *faultServer {
	t.Helper()
	// One port for UDP and TCP: the kernel's free UDP port may be taken
	// for TCP by another test running at the same time, so try again.
	var pc net.PacketConn
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	f := &faultServer{addr: pc.LocalAddr().String(), reply: reply, tcpRcode: tcpRcode}
	t.Cleanup(func() { pc.Close(); l.Close() })
	answer := func(req *dns.Msg) *dns.Msg {
		r := new(dns.Msg)
		r.SetRcode(req, dns.RcodeNameError)
		r.Authoritative = true
		return r
	}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := new(dns.Msg)
			if req.Unpack(buf[:n]) != nil {
				continue
			}
			var out []byte
			if req.Opcode == dns.OpcodeUpdate {
				out = f.reply(req, buf[:n])
			} else {
				out, _ = answer(req).Pack()
			}
			_, _ = pc.WriteTo(out, from)
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.tcpSeen.Add(1)
			go func() {
				defer c.Close()
				conn := &dns.Conn{Conn: c}
				req, _ := conn.ReadMsg() // the TSIG cannot verify here: no secret
				if req == nil {
					return
				}
				r := new(dns.Msg)
				r.SetRcode(req, f.tcpRcode)
				_ = conn.WriteMsg(r)
			}()
		}
	}()
	return f
}

func faultClient(addr string) *Client {
	return &Client{Server: addr, Zone: "example.test",
		Key: Key{Name: "web-key.", Algorithm: dns.HmacSHA256, Secret: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
		TTL: 300, Timeout: 2 * time.Second, Clock: clock.Real{}}
}

func TestFaults(t *testing.T) {
	garbage := func(req *dns.Msg, raw []byte) []byte {
		// The right ID and a response header, then a question that runs
		// off the end of the message.
		return []byte{raw[0], raw[1], 0x84, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x05, 'a', 'b'}
	}
	truncated := func(req *dns.Msg, _ []byte) []byte {
		r := new(dns.Msg)
		r.SetReply(req)
		r.Truncated = true
		b, _ := r.Pack()
		return b
	}
	rcode := func(rc int) func(*dns.Msg, []byte) []byte {
		return func(req *dns.Msg, _ []byte) []byte {
			r := new(dns.Msg)
			r.SetRcode(req, rc)
			b, _ := r.Pack()
			return b
		}
	}
	cases := []struct {
		name    string
		reply   func(*dns.Msg, []byte) []byte
		tcp     int
		class   Class
		code    string
		detail  string
		wantTCP bool
	}{
		{"a reply that does not parse", garbage, 0, Failed, "unparsable reply", "does not parse", false},
		{"truncated: asked again over TCP", truncated, dns.RcodeServerFailure, HoldOff, "SERVFAIL", "failed (SERVFAIL)", true},
		{"NOTZONE", rcode(dns.RcodeNotZone), 0, Sticky, "NOTZONE", "is not inside zone example.test", false},
		{"NOTAUTH without a TSIG error", rcode(dns.RcodeNotAuth), 0, Sticky, "NOTAUTH", "is not authoritative for zone example.test", false},
		{"NOTIMP", rcode(dns.RcodeNotImplemented), 0, Sticky, "NOTIMP", "does not implement dynamic updates", false},
		{"FORMERR", rcode(dns.RcodeFormatError), 0, Sticky, "FORMERR", "cannot read the update", false},
		{"unsigned NOERROR is not believed", rcode(dns.RcodeSuccess), 0, Failed, "NOERROR(unverified)", "is not signed by key web-key", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := startFault(t, c.reply, c.tcp)
			rs := faultClient(f.addr).Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}})
			r := rs[0]
			if r.Class != c.class || r.Code != c.code || !strings.Contains(r.Detail, c.detail) {
				t.Errorf("result %+v, want class %d code %q detail ~%q", r, c.class, c.code, c.detail)
			}
			if got := f.tcpSeen.Load() > 0; got != c.wantTCP {
				t.Errorf("TCP used: %v, want %v", got, c.wantTCP)
			}
		})
	}
}

func TestServerDown(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now
	r := faultClient(addr).Send(context.Background(), []Change{{Name: web, Addrs: addrs("192.0.2.1")}})[0]
	if r.Class != Failed || !r.Account || !strings.Contains(r.Detail, "the next run tries again") {
		t.Errorf("result %+v", r)
	}
}

func TestDeadlineFromContext(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing: silence
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := faultClient(pc.LocalAddr().String())
	c.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := c.Send(ctx, []Change{{Name: web, Addrs: addrs("192.0.2.1")}})[0]
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Send took %s past a 200ms deadline", el)
	}
	if r.Class != Failed || r.Code != "timeout" {
		t.Errorf("result %+v", r)
	}
}

func TestLargeUpdateGoesOverTCP(t *testing.T) {
	f := startFault(t, func(*dns.Msg, []byte) []byte { t.Error("a large update came over UDP"); return nil }, dns.RcodeServerFailure)
	var changes []Change
	for i := 0; i < 20; i++ {
		changes = append(changes, Change{Name: "host-with-a-longish-name-" + string(rune('a'+i)) + ".example.test", Addrs: addrs("192.0.2.1")})
	}
	for _, r := range faultClient(f.addr).Send(context.Background(), changes) {
		if r.Code != "SERVFAIL" {
			t.Fatalf("result %+v", r)
		}
	}
	if f.tcpSeen.Load() == 0 {
		t.Error("no TCP connection")
	}
}
