package rfc2136

import (
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Describe renders the update for changes as nsupdate input, the secret
// redacted. The prerequisites hold values read just before sending, so
// they are described, not listed.
func (c *Client) Describe(changes []Change) string {
	var b strings.Builder
	if c.Server != "" {
		host, port, err := net.SplitHostPort(c.Server)
		if err != nil {
			host, port = c.Server, "53"
		}
		fmt.Fprintf(&b, "server %s %s\n", host, port)
	} else {
		b.WriteString("; server: the primary (SOA MNAME) of the zone, port 53\n")
	}
	if c.Zone != "" {
		fmt.Fprintf(&b, "zone %s\n", strings.TrimSuffix(dns.CanonicalName(c.Zone), "."))
	} else {
		b.WriteString("; zone: found by a SOA lookup of each name\n")
	}
	fmt.Fprintf(&b, "key %s:%s [secret redacted]\n", strings.TrimSuffix(c.Key.Algorithm, "."), strings.TrimSuffix(c.Key.Name, "."))
	b.WriteString("; prerequisite: each set below still holds the values read from the server just before sending\n")
	for _, ch := range changes {
		name := dns.CanonicalName(ch.Name)
		for _, t := range types(ch) {
			fmt.Fprintf(&b, "update delete %s %s\n", name, dns.TypeToString[t])
			for _, a := range ch.Addrs {
				if typeOf(a) == t {
					fmt.Fprintf(&b, "update add %s %d %s %s\n", name, c.TTL, dns.TypeToString[t], a)
				}
			}
		}
		if ch.Owner != nil {
			fmt.Fprintf(&b, "update delete %s TXT\n", OwnerName(name))
			fmt.Fprintf(&b, "update add %s %d TXT %q\n", OwnerName(name), c.TTL, ch.Owner.Value())
		}
	}
	b.WriteString("send")
	return b.String()
}
