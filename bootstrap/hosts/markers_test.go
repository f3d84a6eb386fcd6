package hosts

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const hash16 = "0123456789abcdef"

// TestMarkerLines: how Parse reads one line in a file that otherwise has a
// well-formed block after it. A marker is exact; a near miss is refused,
// never guessed at; a line that merely mentions ec2boot is data.
func TestMarkerLines(t *testing.T) {
	const block = "# BEGIN ec2boot\n10.0.0.1 a\n# END ec2boot\n"
	type outcome struct {
		Err  string // "": parsed
		Hash string
	}
	tests := map[string]outcome{
		// Not markers: the line is data, the block after it parses.
		"127.0.0.1 localhost":  {},
		"# ec2boot was here":   {},
		"# END ec2bootx":       {},
		"# END ec2boot_":       {},
		"# END ec2boot9":       {},
		"x # BEGIN ec2boot":    {},
		"# BEGINX ec2boot":     {},
		"# ENDec2boot":         {},
		"// BEGIN ec2boot":     {},
		"# BEGIN\u00a0ec2boot": {},
		"# BE GIN ec2boot":     {},
		// Near misses: refused.
		"#BEGIN ec2boot":       {Err: "malformed marker"},
		"# begin ec2boot":      {Err: "malformed marker"},
		"  ## BEGIN   ec2boot": {Err: "malformed marker"},
		"\t#\tEND\tec2boot":    {Err: "malformed marker"},
		"# END ec2boot peers":  {Err: "malformed marker"},
		"# END ec2boot-x":      {Err: "malformed marker"},
		"# END  EC2BOOT":       {Err: "malformed marker"},
		" # END ec2boot":       {Err: "malformed marker"},
		"# END ec2boot ":       {Err: "malformed marker"},
		"# BEGIN ec2boot sha256=" + strings.ToUpper(hash16): {Err: "malformed marker"},
		"# BEGIN ec2boot sha256=" + hash16[1:]:              {Err: "malformed marker"},
		"# BEGIN ec2boot sha256=" + hash16 + "0":            {Err: "malformed marker"},
		"# BEGIN ec2boot sha256=":                           {Err: "malformed marker"},
		// Real markers, out of place here.
		"# END ec2boot":                    {Err: "END ec2boot without a BEGIN ec2boot"},
		"# BEGIN ec2boot sha256=" + hash16: {Err: "two BEGIN ec2boot markers"},
	}
	for line, want := range tests {
		var got outcome
		if _, err := Parse([]byte(line + "\n" + block)); err != nil {
			got.Err = err.Error()
		}
		if want.Err != "" && strings.Contains(got.Err, want.Err) {
			got.Err = want.Err
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", line, d)
		}
	}
	// The hash of a BEGIN line is read.
	f, err := Parse([]byte("# BEGIN ec2boot sha256=" + hash16 + "\n10.0.0.1 a\n# END ec2boot\n"))
	if err != nil || f.StoredHash != hash16 {
		t.Errorf("hash = %q, %v; want %q", f.StoredHash, err, hash16)
	}
}
