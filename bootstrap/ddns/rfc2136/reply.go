package rfc2136

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// replyContext is what the messages about a reply name.
type replyContext struct {
	server, zone, key, names string
	signed                   time.Time // the time the update was signed with
}

// classify says what a reply (or its absence) means. Every rcode an
// UPDATE can earn has its own line; docs/dns.md lists them.
func classify(r *dns.Msg, err error, rc replyContext) Result {
	key := strings.TrimSuffix(rc.key, ".")
	zone := strings.TrimSuffix(rc.zone, ".")
	if r == nil {
		if err == nil {
			err = errors.New("no reply")
		}
		code := transportCode(err)
		detail := fmt.Sprintf("no usable reply from %s: %v; the next run tries again", rc.server, err)
		if code == "unparsable reply" {
			detail = fmt.Sprintf("the reply from %s does not parse (%v); the next run reads and tries again", rc.server, err)
		}
		return Result{Code: code, Class: Failed, Account: true, Detail: detail}
	}
	tsigErr := uint16(0)
	if t := r.IsTsig(); t != nil {
		tsigErr = t.Error
	}
	code := dns.RcodeToString[r.Rcode]
	if code == "" {
		code = fmt.Sprintf("RCODE%d", r.Rcode)
	}
	if tsigErr != 0 {
		code = fmt.Sprintf("%s(%s)", code, dns.RcodeToString[int(tsigErr)])
	}
	denied := fmt.Sprintf("the server %s does not let key %s change %s: grant it in BIND's update-policy or Knot's ACL (update-owner), or fix key_name", rc.server, key, rc.names)
	lost := fmt.Sprintf("another writer changed %s between our read and the update (%s); nothing was overwritten, the next run reads again", rc.names, code)
	switch {
	case tsigErr == dns.RcodeBadSig:
		return Result{Code: code, Class: Sticky, Account: true,
			Detail: fmt.Sprintf("the server %s rejects the signature of key %s: the secret in key_file is not the server's", rc.server, key)}
	case tsigErr == dns.RcodeBadKey:
		return Result{Code: code, Class: Sticky, Detail: denied + " (the server may also not know the key at all)"}
	case tsigErr == dns.RcodeBadTime:
		return Result{Code: code, Class: Failed, Account: true, Detail: skewDetail(r, rc)}
	}
	switch r.Rcode {
	case dns.RcodeSuccess:
		if err != nil {
			// The server says yes, but the reply's signature does not
			// verify: it may be forged, so nothing is assumed applied.
			return Result{Code: "NOERROR(unverified)", Class: Failed, Account: true,
				Detail: fmt.Sprintf("the reply from %s is not signed by key %s (%v); the next run reads again", rc.server, key, err)}
		}
		return Result{Code: code, Class: Success}
	case dns.RcodeRefused:
		return Result{Code: code, Class: Sticky, Detail: denied + " (Knot also refuses a change that breaks a zone rule, such as a CNAME at the name)"}
	case dns.RcodeNotAuth:
		return Result{Code: code, Class: Sticky, Account: true,
			Detail: fmt.Sprintf("the server %s is not authoritative for zone %s (or not its primary): fix server or zone", rc.server, zone)}
	case dns.RcodeNotZone:
		return Result{Code: code, Class: Sticky, Account: true,
			Detail: fmt.Sprintf("%s is not inside zone %s: fix zone or the record names", rc.names, zone)}
	case dns.RcodeServerFailure:
		return Result{Code: code, Class: HoldOff, Account: true,
			Detail: fmt.Sprintf("the server %s failed (SERVFAIL) on the update of %s; see its log", rc.server, rc.names)}
	case dns.RcodeYXRrset, dns.RcodeNXRrset, dns.RcodeYXDomain, dns.RcodeNameError:
		return Result{Code: code, Class: Failed, Detail: lost}
	case dns.RcodeNotImplemented:
		return Result{Code: code, Class: Sticky, Account: true,
			Detail: fmt.Sprintf("the server %s does not implement dynamic updates (NOTIMP): point server at the zone's primary", rc.server)}
	case dns.RcodeFormatError:
		return Result{Code: code, Class: Sticky, Account: true,
			Detail: fmt.Sprintf("the server %s cannot read the update (FORMERR): report this with the plan output", rc.server)}
	}
	return Result{Code: code, Class: Failed, Account: true,
		Detail: fmt.Sprintf("the server %s answered %s, which an update should not earn; the next run tries again", rc.server, code)}
}

// skewDetail says how far our clock is from the server's. A BADTIME reply
// carries the server's time in its TSIG other data (RFC 8945 5.2.3);
// without it the reply's signing time stands in.
func skewDetail(r *dns.Msg, rc replyContext) string {
	t := r.IsTsig()
	server := int64(t.TimeSigned)
	if b, err := hex.DecodeString(t.OtherData); err == nil && len(b) == 6 {
		server = 0
		for _, x := range b {
			server = server<<8 | int64(x)
		}
	}
	skew := rc.signed.Unix() - server
	dir := "ahead of"
	if skew < 0 {
		dir, skew = "behind", -skew
	}
	return fmt.Sprintf("our clock is %d s %s the server %s's (TSIG allows %d s): wait for time sync (chronyc waitsync); the next run tries again", skew, dir, rc.server, Fudge)
}

// transportCode is the short name of an exchange error.
func transportCode(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "dns: "), strings.Contains(err.Error(), "overflow"):
		return "unparsable reply"
	}
	return "no reply"
}
