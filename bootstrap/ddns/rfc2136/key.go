package rfc2136

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Key is a TSIG key: its name, algorithm (a miekg/dns constant such as
// dns.HmacSHA256) and base64 secret.
type Key struct {
	Name      string // absolute ("ddns-key.")
	Algorithm string // dns.HmacSHA256, ...
	Secret    string // base64; never printed
}

// algorithms maps the names users write (BIND's and the config's) to the
// wire names. hmac-md5 is absent on purpose: it is refused with a reason.
var algorithmNames = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// Algorithm returns the wire name of a TSIG algorithm the user named, or
// why it cannot be used.
func Algorithm(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if n == "" {
		return dns.HmacSHA256, nil
	}
	if n == "hmac-md5" || n == "hmac-md5.sig-alg.reg.int" {
		return "", fmt.Errorf("algorithm %s is refused: MD5 is broken and RFC 8945 deprecates hmac-md5; generate a new key with tsig-keygen -a hmac-sha256", name)
	}
	if a, ok := algorithmNames[n]; ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown algorithm %q (supported: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1)", name)
}

// maxKeyFile bounds what ParseKeyFile reads: a key statement is a few
// hundred bytes.
const maxKeyFile = 64 << 10

// ParseKeyFile reads a TSIG key from a key file's contents. Two formats:
//
//   - BIND's key statement, as tsig-keygen writes it:
//     key "name" { algorithm hmac-sha256; secret "base64"; };
//     A file with several key statements is refused unless keyName picks
//     one.
//   - A plain base64 secret on the first line; keyName must then be given
//     and algorithm applies.
//
// keyName and algorithm come from the configuration ("" when not set);
// when the file names them too they must agree.
func ParseKeyFile(data []byte, keyName, algorithm string) (Key, error) {
	if len(data) > maxKeyFile {
		return Key{}, fmt.Errorf("%d bytes is too large for a key file", len(data))
	}
	text := string(data)
	if !strings.Contains(text, "{") {
		return plainKey(text, keyName, algorithm)
	}
	stmts, err := parseKeyStatements(text)
	if err != nil {
		return Key{}, err
	}
	var pick *keyStatement
	for i := range stmts {
		if keyName == "" || sameName(stmts[i].name, keyName) {
			if pick != nil {
				return Key{}, fmt.Errorf("several key statements; set key_name to pick one")
			}
			pick = &stmts[i]
		}
	}
	if pick == nil {
		return Key{}, fmt.Errorf("no key statement named %q", keyName)
	}
	if pick.secret == "" {
		return Key{}, fmt.Errorf("key %q has no secret", pick.name)
	}
	if pick.algorithm == "" {
		return Key{}, fmt.Errorf("key %q has no algorithm", pick.name)
	}
	alg, err := Algorithm(pick.algorithm)
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", pick.name, err)
	}
	if algorithm != "" {
		cfg, err := Algorithm(algorithm)
		if err != nil {
			return Key{}, err
		}
		if cfg != alg {
			return Key{}, fmt.Errorf("key %q is %s in the file but algorithm says %s", pick.name, pick.algorithm, algorithm)
		}
	}
	if err := checkSecret(pick.secret); err != nil {
		return Key{}, fmt.Errorf("key %q: %w", pick.name, err)
	}
	name, err := absName(pick.name)
	if err != nil {
		return Key{}, err
	}
	return Key{Name: name, Algorithm: alg, Secret: pick.secret}, nil
}

func plainKey(text, keyName, algorithm string) (Key, error) {
	line := strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])
	if line == "" {
		return Key{}, fmt.Errorf("empty: want a key statement or a base64 secret")
	}
	if keyName == "" {
		return Key{}, fmt.Errorf("holds a bare secret: set key_name (the key statement's name on the server)")
	}
	alg, err := Algorithm(algorithm)
	if err != nil {
		return Key{}, err
	}
	if err := checkSecret(line); err != nil {
		return Key{}, err
	}
	name, err := absName(keyName)
	if err != nil {
		return Key{}, err
	}
	return Key{Name: name, Algorithm: alg, Secret: line}, nil
}

func checkSecret(s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("secret is not base64: %v", err)
	}
	if len(b) < 16 {
		return fmt.Errorf("secret is %d bytes; a TSIG secret needs at least 16", len(b))
	}
	return nil
}

func absName(n string) (string, error) {
	f := dns.CanonicalName(n)
	if _, ok := dns.IsDomainName(f); !ok || f == "." {
		return "", fmt.Errorf("key name %q is not a domain name", n)
	}
	return f, nil
}

func sameName(a, b string) bool { return dns.CanonicalName(a) == dns.CanonicalName(b) }

// keyStatement is one `key "name" { ... };` of a BIND file.
type keyStatement struct{ name, algorithm, secret string }

// parseKeyStatements reads the key statements of a BIND configuration
// fragment: tokens are words, quoted strings and the punctuation { } ;,
// with #, // and /* */ comments.
func parseKeyStatements(text string) ([]keyStatement, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	var out []keyStatement
	i := 0
	next := func() (string, bool) {
		if i >= len(toks) {
			return "", false
		}
		i++
		return toks[i-1], true
	}
	expect := func(want string) error {
		t, ok := next()
		if !ok {
			return fmt.Errorf("unexpected end of file, want %q", want)
		}
		if t != want {
			return fmt.Errorf("unexpected %q, want %q", t, want)
		}
		return nil
	}
	for i < len(toks) {
		t, _ := next()
		if t != "key" {
			return nil, fmt.Errorf("unexpected %q: only key statements are allowed", t)
		}
		name, ok := next()
		if !ok || name == "{" || name == ";" {
			return nil, fmt.Errorf("key statement without a name")
		}
		ks := keyStatement{name: unquote(name)}
		if err := expect("{"); err != nil {
			return nil, err
		}
		for {
			opt, ok := next()
			if !ok {
				return nil, fmt.Errorf("key %q: unexpected end of file, want \"}\"", ks.name)
			}
			if opt == "}" {
				break
			}
			val, ok := next()
			if !ok || val == ";" || val == "{" || val == "}" {
				return nil, fmt.Errorf("key %q: %s without a value", ks.name, opt)
			}
			switch opt {
			case "algorithm":
				ks.algorithm = unquote(val)
			case "secret":
				ks.secret = unquote(val)
			default:
				return nil, fmt.Errorf("key %q: unknown option %q", ks.name, opt)
			}
			if err := expect(";"); err != nil {
				return nil, fmt.Errorf("key %q: %w", ks.name, err)
			}
		}
		if err := expect(";"); err != nil {
			return nil, fmt.Errorf("key %q: %w", ks.name, err)
		}
		out = append(out, ks)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no key statement")
	}
	return out, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated /* comment")
			}
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, string(c))
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string")
			}
			toks = append(toks, s[i:i+end+2])
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"#", rune(s[j])) && !strings.HasPrefix(s[j:], "//") && !strings.HasPrefix(s[j:], "/*") {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}
