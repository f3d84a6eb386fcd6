package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr bool
	}{
		{in: "4096", want: 4096},
		{in: "0", want: 0},
		{in: "512KiB", want: 512 << 10},
		{in: "16MiB", want: 16 << 20},
		{in: " 16 MiB ", want: 16 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "10B", want: 10},
		{in: "16MB", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1.5MiB", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "", wantErr: true},
		{in: "99999999999GiB", wantErr: true},
	}
	for _, tc := range tests {
		var got Size
		err := got.UnmarshalText([]byte(tc.in))
		if (err != nil) != tc.wantErr {
			t.Errorf("Size(%q): err = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" && !tc.wantErr {
			t.Errorf("Size(%q) (-want +got):\n%s", tc.in, d)
		}
	}
	if got := Size(16 << 20).String(); got != "16MiB" {
		t.Errorf("String() = %q, want 16MiB", got)
	}
}

// FuzzSize: whatever parses, prints back to text that parses to the same
// size.
func FuzzSize(f *testing.F) {
	for _, s := range []string{"16MiB", "4096", "1GiB", "0", "7KiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s Size
		if s.UnmarshalText([]byte(in)) != nil {
			return
		}
		var back Size
		if err := back.UnmarshalText([]byte(s.String())); err != nil || back != s {
			t.Fatalf("%q -> %d -> %q -> %d, %v", in, s, s.String(), back, err)
		}
	})
}
