package config

import (
	"slices"
	"strings"
	"time"
)

// Route 53 accounts: a hosted zone (zone_id, or zone plus private when a
// public and a private zone share the name), the TTL written and whether
// a run waits for the change to be INSYNC. Credentials are the instance
// role's: there is no password to configure.

func (a *Account) setRoute53Defaults() {
	if a.TTL == 0 {
		a.TTL = 300
	}
	a.ZoneID = strings.TrimPrefix(a.ZoneID, "/hostedzone/")
}

// route53Keys are the settings only route53 accounts take.
func route53Keys(a Account) map[string]bool {
	return map[string]bool{"zone_id": a.ZoneID != "", "private": a.Private != nil, "wait": a.Wait}
}

// dyndns2Keys are the settings route53 accounts refuse (dyndns2's and
// rfc2136's key settings).
func dyndns2Keys(a Account) map[string]bool {
	return map[string]bool{"preset": a.Preset != "", "server": a.Server != "", "path": a.Path != "", "username": a.Username != "",
		"password": a.Password.IsSet(), "password_file": a.PasswordFile != "", "one_host_per_request": a.OneHostPerRequest,
		"wildcard": a.Wildcard != "", "mx": a.MX != "", "backmx": a.BackMX != "", "offline": a.Offline,
		"key_file": a.KeyFile != "", "key_name": a.KeyName != "", "algorithm": a.Algorithm != ""}
}

func refuseRoute53Keys(v *validator, p string, a Account) {
	for _, k := range sortedTrue(route53Keys(a)) {
		v.errorf(p+"."+k, "is a route53 setting; set provider = \"route53\" or remove it")
	}
}

func validateRoute53(v *validator, p string, a Account, budget time.Duration) {
	for _, k := range sortedTrue(dyndns2Keys(a)) {
		v.errorf(p+"."+k, "is not a route53 setting (route53 signs with the instance role's credentials)")
	}
	switch {
	case a.ZoneID == "" && a.Zone == "":
		v.errorf(p, "needs zone_id or zone")
	case a.ZoneID != "" && a.Zone != "":
		v.errorf(p+".zone", "give zone_id or zone, not both")
	case a.ZoneID != "" && !isZoneID(a.ZoneID):
		v.errorf(p+".zone_id", "%q is not a hosted zone ID (Z followed by letters and digits)", a.ZoneID)
	case a.Zone != "" && !IsHostname(a.Zone):
		v.errorf(p+".zone", "%q is not a valid DNS name", a.Zone)
	}
	if a.Private != nil && a.ZoneID != "" {
		v.errorf(p+".private", "only chooses among zones found by zone name; zone_id already names one")
	}
	if a.TTL < 1 || a.TTL > 172800 {
		v.errorf(p+".ttl", "%d is not between 1 and 172800 seconds", a.TTL)
	}
	if a.Timeout.Duration > budget {
		v.errorf(p+".timeout", "%s is longer than dns.budget (%s)", a.Timeout.Duration, budget)
	}
	if a.Refresh.Duration != 0 && a.Refresh.Duration < time.Hour {
		v.errorf(p+".refresh", "%s is too short: an unchanged update more often than hourly is abuse", a.Refresh.Duration)
	}
}

func isZoneID(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] != 'Z' {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func sortedTrue(m map[string]bool) []string {
	var out []string
	for k, set := range m {
		if set {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
