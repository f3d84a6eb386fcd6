package awsapi

import (
	"fmt"
	"strconv"
	"strings"
)

// Route 53 keeps names lower-case, fully qualified, and writes every
// byte outside a-z, 0-9, '-' and '_' as a three-digit octal escape
// (\052 for '*'); it accepts names with or without the trailing dot and
// with either the escape or the character itself.

// labels splits a name into its decoded labels (no empty root label).
func labels(name string) ([][]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("empty name")
	}
	if name == "." {
		return nil, nil
	}
	var out [][]byte
	var cur []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\':
			if i+3 < len(name) && isOctal(name[i+1:i+4]) {
				v, _ := strconv.ParseUint(name[i+1:i+4], 8, 16)
				if v > 255 {
					return nil, fmt.Errorf("escape \\%s is out of range", name[i+1:i+4])
				}
				cur = append(cur, byte(v))
				i += 3
			} else if i+1 < len(name) {
				cur = append(cur, name[i+1])
				i++
			} else {
				return nil, fmt.Errorf("name ends with a backslash")
			}
		case c == '.':
			if len(cur) == 0 {
				return nil, fmt.Errorf("empty label")
			}
			out = append(out, cur)
			cur = nil
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	total := 0
	for _, l := range out {
		if len(l) > 63 {
			return nil, fmt.Errorf("label longer than 63 bytes")
		}
		total += len(l) + 1
	}
	if total > 254 {
		return nil, fmt.Errorf("name longer than 255 bytes")
	}
	return out, nil
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// normalName is name as Route 53 returns it.
func normalName(name string) (string, error) {
	ls, err := labels(name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, l := range ls {
		for _, c := range l {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "\\%03o", c)
			}
		}
		b.WriteByte('.')
	}
	if b.Len() == 0 {
		return ".", nil
	}
	return b.String(), nil
}

// presentation is a normalised name in DNS presentation form (escapes
// decoded where the DNS allows the character), for the Backend.
func presentation(name string) string {
	ls, _ := labels(name)
	var b strings.Builder
	for _, l := range ls {
		for _, c := range l {
			switch {
			case c == '.' || c == '\\' || c < '!' || c > '~':
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// compareNames orders normalised names with their labels reversed
// (com.example.www), as ListResourceRecordSets and ListHostedZonesByName
// sort.
func compareNames(a, b string) int {
	la, _ := labels(a)
	lb, _ := labels(b)
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		if c := strings.Compare(string(la[len(la)-i]), string(lb[len(lb)-i])); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// inZone is whether name is zone or below it (both normalised).
func inZone(name, zone string) bool {
	return name == zone || zone == "." || strings.HasSuffix(name, "."+zone)
}
