// Package dnsclient sends the product's own DNS queries: one question to
// one server, over UDP with a TCP retry when the answer is truncated, and a
// reply reduced to the few record types ec2boot reads (A, AAAA, CNAME, NS,
// SOA).
//
// It exists to keep the ec2boot binary small. It is built on
// golang.org/x/net/dns/dnsmessage (the Go team's wire-format package, which
// the standard library vendors too) instead of github.com/miekg/dns, which
// alone cost about 1 MB of the binary. miekg/dns stays in the test servers
// (internal/testpeer/...), which need its server side and TSIG.
//
//	r, err := dnsclient.Exchange(ctx, "10.0.0.2:53", "db-1.example.test", dnsmessage.TypeA, true)
//	servers, err := dnsclient.ReadResolvConf("/etc/resolv.conf")
package dnsclient
