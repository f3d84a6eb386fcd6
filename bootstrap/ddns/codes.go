package ddns

import (
	"strings"
	"time"
)

// HoldOffFor is how long a provider in trouble (911, dnserr, HTTP 5xx) is
// left alone. Dyn and No-IP both ask for at least 30 minutes.
const HoldOffFor = 30 * time.Minute

// codeInfo is what a dyndns2 return code means and what to do about it.
type codeInfo struct {
	class  Class
	scope  Scope
	detail string
}

// lookupCode classifies a dyndns2 return code (the first word of a reply
// line). Unknown words are not in the table: the caller treats them as
// failures, never as success.
func lookupCode(code string) (codeInfo, bool) {
	switch strings.ToLower(code) {
	case "good":
		return codeInfo{Success, HostScope, "updated"}, true
	case "nochg":
		return codeInfo{Success, HostScope, "the provider already had this address"}, true
	case "badauth":
		return codeInfo{Sticky, AccountScope, "the provider rejected the username or password; fix username/password_file of the account (blocked until they change, or run --force)"}, true
	case "!donator":
		return codeInfo{Sticky, AccountScope, "the request used a feature of paid accounts (offline, wildcard, mx); remove it from the account or upgrade it"}, true
	case "badagent":
		return codeInfo{Sticky, AccountScope, "the provider blocked this client (User-Agent or method); please report it to the ec2boot project, then run --force"}, true
	case "badsys":
		return codeInfo{Sticky, AccountScope, "the provider rejected the system parameter; check server and path of the account"}, true
	case "numhost":
		return codeInfo{Sticky, AccountScope, "too many names in one request, or a round-robin name; set one_host_per_request = true for the account"}, true
	case "notfqdn":
		return codeInfo{Sticky, HostScope, "the provider says the name is not a fully qualified domain name; fix the record's name"}, true
	case "nohost":
		return codeInfo{Sticky, HostScope, "the name does not exist in this account; create it at the provider or fix the record's name or account"}, true
	case "abuse":
		return codeInfo{Sticky, HostScope, "the provider blocked the name for abusive updates; follow the provider's unblock procedure, then run --force"}, true
	case "!yours":
		return codeInfo{Sticky, HostScope, "the name belongs to another account at the provider; fix the record's account"}, true
	case "!active":
		return codeInfo{Sticky, HostScope, "the name's domain is not activated at the provider; activate it, then run --force"}, true
	case "dnserr":
		return codeInfo{HoldOff, AccountScope, "DNS error at the provider; it is left alone for 30 minutes"}, true
	case "911":
		return codeInfo{HoldOff, AccountScope, "problem or maintenance at the provider; it is left alone for 30 minutes"}, true
	}
	return codeInfo{}, false
}
