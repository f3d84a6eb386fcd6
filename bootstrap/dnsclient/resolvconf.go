package dnsclient

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// ReadResolvConf returns the nameservers of a resolv.conf as "host:port"
// on port 53, in file order. It reads only nameserver lines, as glibc does:
// an address ends at whitespace, '#' or ';' (comments), IPv6 addresses may
// carry a zone ("fe80::1%eth0"), and an entry that is not an IP address is
// skipped. A file with no usable nameserver is an error naming the file.
func ReadResolvConf(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("resolver configuration: %w", err)
	}
	servers := parseResolvConf(string(b))
	if len(servers) == 0 {
		return nil, fmt.Errorf("resolver configuration %s: no nameserver", path)
	}
	return servers, nil
}

func parseResolvConf(text string) []string {
	var servers []string
	for line := range strings.Lines(text) {
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		servers = append(servers, netip.AddrPortFrom(a.Unmap(), 53).String())
	}
	return servers
}
