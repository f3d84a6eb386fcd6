// Package dnsclient sends the product's own DNS queries, on
// github.com/miekg/dns: one question to one server, over UDP with a TCP
// retry when the answer is truncated, and a reply reduced to the few
// record types ec2boot reads (A, AAAA, CNAME, NS, SOA).
//
// miekg/dns builds and reads the messages and frames them on the
// connection. What this package adds is the part a plain client exchange
// leaves out: the context's deadline and cancellation on every read and
// write, EDNS0 with a payload size that avoids fragmentation, and a UDP
// exchange that ignores any datagram that is not the reply to its query
// (another ID, another question, not a response, unreadable) and keeps
// waiting for the real one, as a late or forged datagram must not end it.
//
//	r, err := dnsclient.Exchange(ctx, "10.0.0.2:53", "db-1.example.test", dns.TypeA, true)
//	servers, err := dnsclient.ReadResolvConf("/etc/resolv.conf")
package dnsclient
