package facts

import (
	"strings"
	"testing"
)

func TestTagKeys(t *testing.T) {
	for k, want := range map[string]bool{
		"Name": true, "aws:autoscaling:groupName": true, "a+b=c.d,e_f:g@h-i": true, strings.Repeat("k", 128): true,
		"": false, ".": false, "..": false, "a/b": false, "../x": false, "with space": false, "é": false,
		strings.Repeat("k", 129): false, "a\nb": false,
	} {
		if got := isTagKey(k); got != want {
			t.Errorf("isTagKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// FuzzFleetValues: the fleet facts' parsers never panic, and what they
// accept is safe to use: a tag key never changes the path it is read from,
// a launch index is never negative, a tag value never breaks a line.
func FuzzFleetValues(f *testing.F) {
	for _, s := range []string{"0", "3", "-1", "Name", "aws:autoscaling:groupName", "../x", `{"pendingTime":"2026-11-27T02:58:41Z"}`, `{"pendingTime":"x"}`, "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isTagKey(s) && (strings.ContainsAny(s, "/\n?#% ") || s == ".." || s == ".") {
			t.Fatalf("tag key %q accepted", s)
		}
		if n, err := parseLaunchIndex([]byte(s)); err == nil && *n < 0 {
			t.Fatalf("launch index %d from %q", *n, s)
		}
		_, _ = parsePendingTime([]byte(s))
		if checkTagValue(s) == nil && strings.ContainsAny(s, "\n\r\x00") {
			t.Fatalf("tag value %q accepted", s)
		}
	})
}
