package config

import (
	"encoding/json"
	"fmt"
	"os"
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

// UnmarshalText takes the secret from the config.
func (s *Secret) UnmarshalText(b []byte) error { s.value = string(b); return nil }

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

// LoadSecret returns the inline secret, or reads the first line of file
// (under root-resolved path readPath) when the inline one is empty.
func LoadSecret(inline Secret, file string, readFile func(string) ([]byte, error)) (Secret, error) {
	if file == "" {
		return inline, nil
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	b, err := readFile(file)
	if err != nil {
		return Secret{}, fmt.Errorf("password_file %s: %w", file, err)
	}
	v := strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
	if v == "" {
		return Secret{}, fmt.Errorf("password_file %s: empty", file)
	}
	return Secret{value: v}, nil
}
