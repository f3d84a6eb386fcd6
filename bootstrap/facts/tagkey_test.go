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
