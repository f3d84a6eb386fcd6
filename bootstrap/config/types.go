package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "90s", "5m", "24h" or, for the
// long intervals DNS refreshes use, "25d".
type Duration struct{ time.Duration }

// UnmarshalText parses a duration, accepting a trailing "d" for days.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid duration %q", s)
		}
		d.Duration = time.Duration(n * 24 * float64(time.Hour))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 30s, 5m, 24h, 25d)", s)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: negative", s)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back in Go's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Secret holds a password. It never prints: fmt, JSON and logs all see
// "[redacted]". Use Reveal only where the value goes on the wire.
type Secret struct{ value string }

// NewSecret wraps a value.
func NewSecret(s string) Secret { return Secret{value: s} }

// UnmarshalText takes the secret from a text encoding.
func (s *Secret) UnmarshalText(b []byte) error { s.value = string(b); return nil }

// UnmarshalTOML takes the secret from the config. Only a string is a
// password: `password = 123` would otherwise turn silently into "123", and
// a value that is not what was meant must never be sent.
func (s *Secret) UnmarshalTOML(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("a password must be a string in quotes, not %s", tomlTypeName(v))
	}
	s.value = str
	return nil
}

// tomlTypeName names the TOML type of a decoded value, for messages.
func tomlTypeName(v any) string {
	switch v.(type) {
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return "a date or time"
}

// MarshalText keeps the secret out of any encoding.
func (s Secret) MarshalText() ([]byte, error) {
	if s.value == "" {
		return []byte(""), nil
	}
	return []byte("[redacted]"), nil
}

// MarshalJSON keeps the secret out of JSON output.
func (s Secret) MarshalJSON() ([]byte, error) {
	b, _ := s.MarshalText()
	return json.Marshal(string(b))
}

func (s Secret) String() string             { b, _ := s.MarshalText(); return string(b) }
func (s Secret) GoString() string           { return s.String() }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether a value was given.
func (s Secret) IsSet() bool { return s.value != "" }
