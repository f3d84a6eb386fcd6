package config

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// DNS configures dynamic DNS registration: accounts at providers and the
// records that carry this instance's addresses.
type DNS struct {
	// CheckServer is a DNS server ("host:port") asked for the current value
	// of each record instead of the zone's authoritative servers.
	CheckServer string `toml:"check_server"`
	// Refresh re-sends an unchanged record after this long, so that free
	// accounts stay alive.
	Refresh Duration `toml:"refresh"`
	// Budget bounds the whole registration step: DNS checks and provider
	// requests together.
	Budget   Duration           `toml:"budget"`
	Accounts map[string]Account `toml:"accounts"`
	Records  []Record           `toml:"records"`
}

// Account is one login at a dynamic DNS provider.
type Account struct {
	// Provider is the protocol: "dyndns2" (default), "rfc2136" or "route53".
	Provider string `toml:"provider"`
	// Preset fills Server and Path for a known service (dyn, noip, ...).
	Preset string `toml:"preset"`
	// Server is the base URL ("https://members.dyndns.org"); https unless an
	// explicit http:// is given. For rfc2136 it is the primary's
	// "host[:port]" (default: the zone's SOA MNAME, port 53).
	Server       string `toml:"server"`
	Path         string `toml:"path"`
	Username     string `toml:"username"`
	Password     Secret `toml:"password"`
	PasswordFile string `toml:"password_file"`
	// OneHostPerRequest is for providers that refuse hostname lists.
	OneHostPerRequest bool   `toml:"one_host_per_request"`
	Wildcard          string `toml:"wildcard"`
	MX                string `toml:"mx"`
	BackMX            string `toml:"backmx"`
	Offline           bool   `toml:"offline"`
	// Timeout bounds each request to the provider.
	Timeout Duration `toml:"timeout"`
	// Refresh overrides dns.refresh for this account (some free services
	// expire names after a week).
	Refresh Duration `toml:"refresh"`

	// RFC 2136 settings (dns_rfc2136.go): the zone (default: found by a SOA
	// lookup), the TSIG key's file, name and algorithm, and the TTL of
	// the records written.
	Zone      string `toml:"zone"`
	KeyFile   string `toml:"key_file"`
	KeyName   string `toml:"key_name"`
	Algorithm string `toml:"algorithm"`
	TTL       int    `toml:"ttl"`

	// Route 53 settings (dns_route53.go); zone and ttl are shared with
	// rfc2136.
	ZoneID  string `toml:"zone_id"`
	Private *bool  `toml:"private"`
	Wait    bool   `toml:"wait"`
}

// Record is one DNS name and the instance address it carries.
type Record struct {
	Name string `toml:"name"`
	// Address is "local-ipv4", "public-ipv4" or "ipv6"; "local-ipv4+ipv6"
	// and "public-ipv4+ipv6" register both families in one request.
	Address string `toml:"address"`
	Account string `toml:"account"`
}

// The address sources a record can carry.
var recordAddresses = []string{"local-ipv4", "public-ipv4", "ipv6", "local-ipv4+ipv6", "public-ipv4+ipv6"}

// DNSPreset is what a preset fills in for a known dyndns2 service.
type DNSPreset struct {
	Server            string
	Path              string
	OneHostPerRequest bool
	// Refresh is the service's own touch interval, when shorter than the
	// default.
	Refresh time.Duration
}

// LookupDNSPreset returns the preset called name. The table lives in a
// function, not a variable, so nothing can change it at run time.
func LookupDNSPreset(name string) (DNSPreset, bool) {
	switch name {
	case "dyn":
		return DNSPreset{Server: "https://members.dyndns.org", Path: "/nic/update"}, true
	case "noip":
		return DNSPreset{Server: "https://dynupdate.no-ip.com", Path: "/nic/update"}, true
	case "dynu":
		return DNSPreset{Server: "https://api.dynu.com", Path: "/nic/update"}, true
	case "desec":
		// deSEC answers one name per request (hostname lists are refused).
		return DNSPreset{Server: "https://update.dedyn.io", Path: "/nic/update", OneHostPerRequest: true}, true
	case "nsupdate.info":
		// Credentials are per name, so a list can never be right.
		return DNSPreset{Server: "https://ipv4.nsupdate.info", Path: "/nic/update", OneHostPerRequest: true}, true
	case "dy.fi":
		// dy.fi drops names not touched for 7 days.
		return DNSPreset{Server: "https://www.dy.fi", Path: "/nic/update", Refresh: 6 * 24 * time.Hour}, true
	}
	return DNSPreset{}, false
}

// DNSPresetNames lists the presets, for messages and docs.
func DNSPresetNames() []string {
	return []string{"dyn", "noip", "dynu", "desec", "nsupdate.info", "dy.fi"}
}

// RefreshFor is the refresh interval that applies to account name.
func (s *DNS) RefreshFor(name string) time.Duration {
	if a, ok := s.Accounts[name]; ok && a.Refresh.Duration > 0 {
		return a.Refresh.Duration
	}
	return s.Refresh.Duration
}

func (s *DNS) setDefaults() {
	if s.Refresh.Duration == 0 {
		s.Refresh.Duration = 25 * 24 * time.Hour
	}
	if s.Budget.Duration == 0 {
		s.Budget.Duration = 30 * time.Second
	}
	for name, a := range s.Accounts {
		if a.Provider == "" {
			a.Provider = "dyndns2"
		}
		if a.Timeout.Duration == 0 {
			a.Timeout.Duration = min(10*time.Second, s.Budget.Duration)
		}
		if p, ok := LookupDNSPreset(a.Preset); ok {
			if a.Server == "" {
				a.Server = p.Server
			}
			if a.Path == "" {
				a.Path = p.Path
			}
			a.OneHostPerRequest = a.OneHostPerRequest || p.OneHostPerRequest
			if a.Refresh.Duration == 0 {
				a.Refresh.Duration = p.Refresh
			}
		}
		if a.Provider == "rfc2136" {
			a.setRFC2136Defaults()
		} else if a.Provider == "route53" {
			a.setRoute53Defaults()
		} else if a.Path == "" {
			a.Path = "/nic/update"
		}
		a.Wildcard = strings.ToUpper(a.Wildcard)
		a.BackMX = strings.ToUpper(a.BackMX)
		s.Accounts[name] = a
	}
	if s.CheckServer != "" {
		if _, _, err := net.SplitHostPort(s.CheckServer); err != nil {
			s.CheckServer = net.JoinHostPort(strings.Trim(s.CheckServer, "[]"), "53")
		}
	}
}

func (s *DNS) validate(v *validator) {
	accountNames := make([]string, 0, len(s.Accounts))
	for name := range s.Accounts {
		accountNames = append(accountNames, name)
	}
	sort.Strings(accountNames)
	for _, name := range accountNames {
		a := s.Accounts[name]
		p := fmt.Sprintf("dns.accounts.%s", name)
		switch a.Provider {
		case "dyndns2":
			for key, set := range map[string]bool{"zone": a.Zone != "", "key_file": a.KeyFile != "", "key_name": a.KeyName != "",
				"algorithm": a.Algorithm != "", "ttl": a.TTL != 0} {
				if set {
					v.errorf(p+"."+key, "is an rfc2136 setting; set provider = \"rfc2136\" or remove it")
				}
			}
			refuseRoute53Keys(v, p, a)
		case "route53":
			validateRoute53(v, p, a, s.Budget.Duration)
			continue
		case "rfc2136":
			refuseRoute53Keys(v, p, a)
			validateRFC2136(v, p, a)
			if a.Timeout.Duration > s.Budget.Duration {
				v.errorf(p+".timeout", "%s is longer than dns.budget (%s)", a.Timeout.Duration, s.Budget.Duration)
			}
			continue
		default:
			v.errorf(p+".provider", "unknown provider %q (supported: dyndns2, rfc2136, route53)", a.Provider)
		}
		if a.Preset != "" {
			if _, ok := LookupDNSPreset(a.Preset); !ok {
				v.errorf(p+".preset", "unknown preset %q (known: %s)", a.Preset, strings.Join(DNSPresetNames(), ", "))
			}
		}
		if a.Server == "" {
			if a.Preset == "" {
				v.errorf(p, "needs server or preset")
			}
		} else if err := checkServerURL(a.Server); err != nil {
			v.errorf(p+".server", "%v", err)
		} else if plainHTTPOffHost(a.Server) {
			v.warnf(p+".server", "plain http sends the password in clear text; use https")
		}
		if !strings.HasPrefix(a.Path, "/") || strings.ContainsAny(a.Path, "?# ") {
			v.errorf(p+".path", "must be an absolute URL path without query, got %q", a.Path)
		}
		if a.Username == "" {
			v.errorf(p+".username", "missing")
		} else if strings.Contains(a.Username, ":") {
			v.errorf(p+".username", "must not contain ':' (HTTP Basic authentication cannot carry it)")
		}
		switch {
		case a.Password.IsSet() && a.PasswordFile != "":
			v.errorf(p+".password", "give password or password_file, not both")
		case !a.Password.IsSet() && a.PasswordFile == "":
			v.errorf(p, "needs password_file (or password)")
		case a.Password.IsSet():
			v.warnf(p+".password", "inline password: any local process can read user-data through the metadata service; prefer password_file")
		case !isAbs(a.PasswordFile):
			v.errorf(p+".password_file", "must be an absolute path, got %q", a.PasswordFile)
		}
		if a.Wildcard != "" && !oneOf(a.Wildcard, []string{"ON", "OFF", "NOCHG"}) {
			v.errorf(p+".wildcard", "%q is not one of ON, OFF, NOCHG", a.Wildcard)
		}
		if a.MX != "" && a.MX != "NOCHG" && !IsHostname(a.MX) {
			v.errorf(p+".mx", "%q is not a valid DNS name", a.MX)
		}
		if a.BackMX != "" {
			if !oneOf(a.BackMX, []string{"YES", "NO", "NOCHG"}) {
				v.errorf(p+".backmx", "%q is not one of YES, NO, NOCHG", a.BackMX)
			} else if a.MX == "" {
				v.errorf(p+".backmx", "only meaningful together with mx")
			}
		}
		if a.Timeout.Duration > s.Budget.Duration {
			v.errorf(p+".timeout", "%s is longer than dns.budget (%s)", a.Timeout.Duration, s.Budget.Duration)
		}
		if a.Refresh.Duration != 0 && a.Refresh.Duration < time.Hour {
			v.errorf(p+".refresh", "%s is too short: an unchanged update more often than hourly is abuse", a.Refresh.Duration)
		}
	}
	if s.Refresh.Duration < time.Hour {
		v.errorf("dns.refresh", "%s is too short: an unchanged update more often than hourly is abuse", s.Refresh.Duration)
	}
	if s.CheckServer != "" {
		if host, _, err := net.SplitHostPort(s.CheckServer); err != nil || host == "" {
			v.errorf("dns.check_server", "%q is not host:port", s.CheckServer)
		}
	}
	seen := map[string]int{}
	for i, r := range s.Records {
		p := fmt.Sprintf("dns.records[%d]", i)
		switch {
		case r.Name == "":
			v.errorf(p+".name", "missing")
		case names.IsTemplate(r.Name):
			// Checked here for syntax and fact names; the name itself
			// only once the facts are known (ExpandNames).
			if _, err := names.Parse(r.Name); err != nil {
				v.errorf(p+".name", "%v", err)
			}
		case !IsHostname(r.Name):
			v.errorf(p+".name", "%q is not a valid DNS name", r.Name)
		case !strings.Contains(strings.TrimSuffix(r.Name, "."), "."):
			v.errorf(p+".name", "%q is not fully qualified (providers answer notfqdn)", r.Name)
		}
		if !oneOf(r.Address, recordAddresses) {
			v.errorf(p+".address", "%q is not one of %v", r.Address, recordAddresses)
		}
		if _, ok := s.Accounts[r.Account]; !ok {
			v.errorf(p+".account", "unknown account %q", r.Account)
		}
		key := r.Account + "/" + strings.ToLower(strings.TrimSuffix(r.Name, "."))
		if j, dup := seen[key]; dup {
			v.errorf(p+".name", "%q with account %q is already dns.records[%d]", r.Name, r.Account, j)
		}
		seen[key] = i
	}
}

// checkServerURL accepts "host", "host:port", "https://host[:port]" and an
// explicit "http://host[:port]". Messages never repeat credentials written
// into the URL.
func checkServerURL(s string) error {
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	shown := RedactURL(s)
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", shown, urlError(err))
	}
	if u.User != nil {
		return fmt.Errorf("%q: credentials in the URL are refused (they would end up in logs); use username and password_file", shown)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q: scheme must be https (or an explicit http)", shown)
	}
	if u.Host == "" || u.RawQuery != "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%q must be a base URL without credentials, path or query (put the path in path)", shown)
	}
	return nil
}

// plainHTTPOffHost reports an explicit http:// URL to anything but loopback.
func plainHTTPOffHost(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
