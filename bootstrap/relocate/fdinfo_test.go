package relocate

import (
	"strings"
	"testing"
)

func TestParseFdinfo(t *testing.T) {
	tests := []struct {
		in    string
		flags int64
		mnt   int
		ok    bool
	}{
		{"pos:\t0\nflags:\t02102001\nmnt_id:\t44\nino:\t12\n", 0o2102001, 44, true},
		{"pos:\t0\nflags:\t0100000\nmnt_id:\t65\n", 0o100000, 65, true},
		{"flags:\t02\n", 2, 0, false},
		{"mnt_id:\t3\n", 0, 3, false},
		{"flags:\t09\nmnt_id:\t3\n", 0, 3, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		flags, mnt, ok := parseFdinfo(strings.NewReader(tt.in))
		if ok != tt.ok || (ok && (flags != tt.flags || mnt != tt.mnt)) {
			t.Errorf("parseFdinfo(%q) = %o, %d, %v; want %o, %d, %v", tt.in, flags, mnt, ok, tt.flags, tt.mnt, tt.ok)
		}
	}
}

func FuzzParseFdinfo(f *testing.F) {
	f.Add("pos:\t0\nflags:\t02102001\nmnt_id:\t44\n")
	f.Add("flags: -1\nmnt_id: -5\n")
	f.Fuzz(func(t *testing.T, s string) {
		flags, mnt, ok := parseFdinfo(strings.NewReader(s))
		if ok && (flags < 0 || mnt < 0) {
			t.Fatalf("accepted negative values %d %d", flags, mnt)
		}
	})
}
