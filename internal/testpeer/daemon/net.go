package daemon

import (
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"
)

// FreePort returns a loopback port that is free for both TCP and UDP at
// the moment of asking (DNS daemons bind both).
func FreePort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err != nil {
			continue
		}
		pc.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port")
}

// AnswersSOA reports whether a DNS server at addr answers zone's SOA. It
// asks over TCP: a UDP probe sent before the socket is up would cost a
// retry.
func AnswersSOA(addr, zone string) bool {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	c := &dns.Client{Net: "tcp", Timeout: 200 * time.Millisecond}
	r, _, err := c.Exchange(m, addr)
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}
