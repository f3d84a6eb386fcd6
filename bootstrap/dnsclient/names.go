package dnsclient

import "strings"

// Fqdn returns name absolute: with its trailing dot. Escaped dots ("a\.b")
// are not special; no name ec2boot manages has one.
func Fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// IsSubDomain reports whether child is parent or a name below it, label by
// label and ignoring ASCII case: "a.example.test" is below "example.test",
// "aexample.test" is not. Either may lack the trailing dot.
func IsSubDomain(parent, child string) bool {
	p, c := lowerASCII(Fqdn(parent)), lowerASCII(Fqdn(child))
	if p == "." {
		return true // the root is above every name
	}
	return c == p || strings.HasSuffix(c, "."+p)
}

// lowerASCII lower-cases the ASCII letters of s only. DNS compares names
// ASCII-case-insensitively (RFC 4343), and strings.ToLower would rewrite
// bytes that are not valid UTF-8, which a name on the wire may hold.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalName compares two names as DNS does: ASCII case does not matter.
func equalName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
