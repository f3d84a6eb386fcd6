package cloudinit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// resolvePlain gives a plain scalar the type PyYAML's SafeLoader gives it
// (YAML 1.1): null, bool, int, float, else string; timestamps stay
// strings. It returns why when PyYAML would refuse the scalar.
func resolvePlain(s string, key bool) (any, string) {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil, ""
	case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, ""
	case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, ""
	case "<<":
		return nil, "merge keys (<<) are not read by ec2boot"
	case "=":
		if !key { // PyYAML has no constructor for YAML 1.1's value type
			return nil, "a plain '=' is not a valid value; quote it"
		}
		return s, ""
	}
	if f, ok := yamlFloat(s); ok {
		return f, ""
	}
	if v, ok, why := yamlInt(s); ok {
		return v, why
	}
	return s, ""
}

func cutSign(s string) (body string, neg, signed bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		return s[1:], s[0] == '-', true
	}
	return s, false, false
}

// span counts the leading bytes of s that are in set or '_'.
func span(s, set string) int {
	n := 0
	for n < len(s) && (s[n] == '_' || strings.IndexByte(set, s[n]) >= 0) {
		n++
	}
	return n
}

const decimalDigits = "0123456789"

// sexagesimal matches YAML 1.1's base-60 parts, (:[0-5]?[0-9])+, at the
// start of s and returns what follows.
func sexagesimal(s string) (rest string, ok bool) {
	for s != "" && s[0] == ':' {
		switch {
		case len(s) >= 3 && '0' <= s[1] && s[1] <= '5' && isDigit(s[2]):
			s = s[3:]
		case len(s) >= 2 && isDigit(s[1]):
			s = s[2:]
		default:
			return s, false
		}
		ok = true
	}
	return s, ok
}

// fromBase60 adds up parts as PyYAML does, last part first.
func fromBase60(parts []float64) float64 {
	v, base := 0.0, 1.0
	for i := len(parts) - 1; i >= 0; i-- {
		v += parts[i] * base
		base *= 60
	}
	return v
}

// yamlFloat matches PyYAML's float pattern: a '.' is required ("1e5" is a
// string), an exponent needs its sign, and base 60 ("1:30.5") is allowed.
func yamlFloat(s string) (float64, bool) {
	body, neg, signed := cutSign(s)
	switch body {
	case ".inf", ".Inf", ".INF":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case ".nan", ".NaN", ".NAN":
		return math.NaN(), !signed
	}
	rest, ok := "", false
	switch {
	case body == "":
	case body[0] == '.':
		ok = !signed && len(body) > 1 && isDigit(body[1])
		rest = body[1+span(body[1:], decimalDigits):]
		rest, ok = exponent(rest, ok)
	case isDigit(body[0]):
		rest = body[span(body, decimalDigits):]
		if rest != "" && rest[0] == ':' {
			if rest, ok = sexagesimal(rest); ok {
				ok = rest != "" && rest[0] == '.' && span(rest[1:], decimalDigits) == len(rest)-1
				rest = ""
			}
		} else if rest != "" && rest[0] == '.' {
			rest, ok = exponent(rest[1+span(rest[1:], decimalDigits):], true)
		}
	}
	if !ok || rest != "" {
		return 0, false
	}
	clean := strings.ReplaceAll(body, "_", "")
	var f float64
	if strings.Contains(clean, ":") {
		var parts []float64
		for _, part := range strings.Split(clean, ":") {
			v, _ := strconv.ParseFloat(part, 64)
			parts = append(parts, v)
		}
		f = fromBase60(parts)
	} else {
		// Out of range is ±Inf, as Python's float() has it.
		f, _ = strconv.ParseFloat(clean, 64)
	}
	if neg {
		f = -f
	}
	return f, true
}

// exponent matches an optional [eE][-+][0-9]+ at the start of s.
func exponent(s string, ok bool) (string, bool) {
	if len(s) >= 3 && (s[0] == 'e' || s[0] == 'E') && (s[1] == '-' || s[1] == '+') && isDigit(s[2]) {
		s = s[2:]
		for s != "" && isDigit(s[0]) {
			s = s[1:]
		}
	}
	return s, ok
}

// yamlInt matches PyYAML's int pattern: 0b binary, 0x hex, a leading 0 for
// octal, '_' anywhere after the first digit, and base 60 ("1:30"). A value
// beyond int64 becomes the nearest float64 (Python's ints have no limit).
func yamlInt(s string) (v any, ok bool, why string) {
	body, neg, _ := cutSign(s)
	base, digits := 10, body
	switch {
	case strings.HasPrefix(body, "0b"):
		base, digits = 2, body[2:]
		ok = digits != "" && span(digits, "01") == len(digits)
	case strings.HasPrefix(body, "0x"):
		base, digits = 16, body[2:]
		ok = digits != "" && span(digits, "0123456789abcdefABCDEF") == len(digits)
	case body == "0":
		return 0, true, ""
	case len(body) > 1 && body[0] == '0':
		base = 8
		ok = span(body, "01234567") == len(body)
	case body != "" && '1' <= body[0] && body[0] <= '9':
		rest := body[span(body, decimalDigits):]
		if rest == "" {
			ok = true
			break
		}
		rest, ok = sexagesimal(rest)
		ok = ok && rest == ""
		base = 60
	}
	if !ok {
		return nil, false, ""
	}
	digits = strings.ReplaceAll(digits, "_", "")
	if digits == "" { // "0b_": Python's int() refuses it
		return nil, true, fmt.Sprintf("%q is not a valid integer", s)
	}
	var f float64
	if base == 60 {
		var parts []float64
		exact, total := true, int64(0)
		for _, part := range strings.Split(digits, ":") {
			n, err := strconv.ParseInt(part, 10, 64)
			exact = exact && err == nil && total <= (math.MaxInt64-n)/60
			total = total*60 + n
			f, _ := strconv.ParseFloat(part, 64)
			parts = append(parts, f)
		}
		if exact {
			return signed(total, neg), true, ""
		}
		f = fromBase60(parts)
	} else if n, err := strconv.ParseInt(digits, base, 64); err == nil {
		return signed(n, neg), true, ""
	} else if base == 10 {
		f, _ = strconv.ParseFloat(digits, 64)
	} else {
		for _, c := range []byte(digits) {
			f = f*float64(base) + float64(hexValue(c))
		}
	}
	if neg {
		f = -f
	}
	return f, true, ""
}

func signed(n int64, neg bool) int {
	if neg {
		return -int(n)
	}
	return int(n)
}

// keyString turns a scalar key into a map key: a string as it is, others
// as JSON writes them (null, true, 12, 1.5), which is what cloud-init's
// json.dumps of the same key gives. false for a list or mapping.
func keyString(k any) (string, bool) {
	switch v := k.(type) {
	case string:
		return v, true
	case nil:
		return "null", true
	case bool:
		return strconv.FormatBool(v), true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return pythonFloat(v), true
	}
	return "", false
}

// pythonFloat formats f as Python's repr does.
func pythonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	if exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:]); exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
