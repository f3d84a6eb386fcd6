package config

import (
	"net"
	"strconv"
	"strings"
)

// TSIGAlgorithms are the algorithms an rfc2136 account may name.
func TSIGAlgorithms() []string {
	return []string{"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"}
}

// DefaultRFC2136TTL is the TTL of records written by RFC 2136 updates.
const DefaultRFC2136TTL = 300

func (a *Account) setRFC2136Defaults() {
	if a.TTL == 0 {
		a.TTL = DefaultRFC2136TTL
	}
	if a.Algorithm == "" {
		a.Algorithm = "hmac-sha256"
	}
	a.Algorithm = strings.ToLower(a.Algorithm)
	if a.Server != "" {
		if _, _, err := net.SplitHostPort(a.Server); err != nil {
			a.Server = net.JoinHostPort(strings.Trim(a.Server, "[]"), "53")
		}
	}
}

// secretKeyHint is the message for a TSIG secret written into the
// configuration (dns.accounts.NAME.key or .secret): such keys are unknown
// on purpose.
const secretKeyHint = "unknown key: a TSIG secret is never taken from user-data (any local process can read it through the metadata service); put it in a root-only file and set key_file"

// unknownKeyMessage is the message for an unknown key at path.
func unknownKeyMessage(path string) string {
	parts := strings.Split(path, ".")
	if len(parts) == 4 && parts[0] == "dns" && parts[1] == "accounts" && (parts[3] == "key" || parts[3] == "secret") {
		return secretKeyHint
	}
	return "unknown key"
}

// validateRFC2136 checks an rfc2136 account at path p.
func validateRFC2136(v *validator, p string, a Account) {
	if a.Server != "" {
		host, port, err := net.SplitHostPort(a.Server)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			v.errorf(p+".server", "%q is not host or host:port (rfc2136 takes no URL)", a.Server)
		}
	}
	if a.Zone != "" && !IsHostname(strings.TrimSuffix(a.Zone, ".")) {
		v.errorf(p+".zone", "%q is not a valid DNS name", a.Zone)
	}
	switch {
	case a.KeyFile == "":
		v.errorf(p, "needs key_file (a BIND key statement or a base64 secret)")
	case !isAbs(a.KeyFile):
		v.errorf(p+".key_file", "must be an absolute path, got %q", a.KeyFile)
	}
	if a.KeyName != "" && !IsHostname(strings.TrimSuffix(a.KeyName, ".")) {
		v.errorf(p+".key_name", "%q is not a valid DNS name", a.KeyName)
	}
	switch {
	case a.Algorithm == "hmac-md5" || a.Algorithm == "hmac-md5.sig-alg.reg.int":
		v.errorf(p+".algorithm", "hmac-md5 is refused: MD5 is broken and RFC 8945 deprecates it; make a new key with tsig-keygen -a hmac-sha256")
	case !oneOf(a.Algorithm, TSIGAlgorithms()):
		v.errorf(p+".algorithm", "%q is not one of %s", a.Algorithm, strings.Join(TSIGAlgorithms(), ", "))
	}
	if a.TTL < 1 || a.TTL > 86400 {
		v.errorf(p+".ttl", "%d is outside 1..86400 seconds", a.TTL)
	}
	for key, set := range map[string]bool{"username": a.Username != "", "password": a.Password.IsSet(), "password_file": a.PasswordFile != "",
		"preset": a.Preset != "", "path": a.Path != "", "wildcard": a.Wildcard != "", "mx": a.MX != "", "backmx": a.BackMX != ""} {
		if set {
			v.errorf(p+"."+key, "is a dyndns2 setting; rfc2136 accounts do not take it")
		}
	}
}
