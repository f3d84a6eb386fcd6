package ec2detect

import (
	"strings"
	"testing"
)

func TestInstanceIDPattern(t *testing.T) {
	for in, want := range map[string]bool{
		"i-01234567": true, "i-0123456789abcdef0": true, "i-" + strings.Repeat("f", 17): true,
		"": false, "i-": false, "i-0123456": false, "i-" + strings.Repeat("f", 18): false,
		"i-0123456789ABCDEF0": false, "I-01234567": false, "i-abcdefag": false,
		"i-01234567\n": false, " i-01234567": false, "x-01234567": false,
	} {
		if got := instanceIDPattern.MatchString(in); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}
