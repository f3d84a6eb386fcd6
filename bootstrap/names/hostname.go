package names

import (
	"fmt"
	"strings"
)

// MaxName is the longest DNS name in text form, without the final dot.
const MaxName = 253

// MaxLabel is the longest label.
const MaxLabel = 63

// IsHostname accepts DNS names: labels of letters, digits, '-' (not at
// either end) and '_' (as in _dmarc), 63 bytes at most, 253 in all without
// the optional final dot. A leading "*." for wildcards is not allowed:
// records name real hosts.
func IsHostname(s string) bool { return CheckHostname(s) == nil }

// CheckHostname is IsHostname with the reason a name is refused, for
// messages about names made from templates, where the user cannot see
// the result in the configuration.
func CheckHostname(s string) error {
	s = strings.TrimSuffix(s, ".")
	switch {
	case s == "":
		return fmt.Errorf("is empty")
	case len(s) > MaxName:
		return fmt.Errorf("is %d characters long, over the %d a DNS name may have", len(s), MaxName)
	}
	for {
		label, rest, more := strings.Cut(s, ".")
		if err := checkLabel(label); err != nil {
			return err
		}
		if !more {
			return nil
		}
		s = rest
	}
}

// checkLabel accepts one label of a host name: 1 to 63 letters, digits,
// '-' and '_', not starting or ending with '-'.
func checkLabel(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("has an empty label (two dots in a row, or a leading dot)")
	case len(s) > MaxLabel:
		return fmt.Errorf("has the label %q of %d characters, over the %d a label may have", s, len(s), MaxLabel)
	case s[0] == '-' || s[len(s)-1] == '-':
		return fmt.Errorf("has the label %q, which starts or ends with '-'", s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("has the label %q with %q in it (only letters, digits, '-' and '_' are allowed)", s, c)
		}
	}
	return nil
}
