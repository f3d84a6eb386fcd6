package diff

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

var cases = []struct{ name, a, b string }{
	{"equal", "a\nb\n", "a\nb\n"},
	{"append", "a\nb\n", "a\nb\nc\n"},
	{"from empty", "", "a\nb\n"},
	{"to empty", "a\nb\n", ""},
	{"change middle", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n"},
	{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\nfifteen\n"},
	{"merged hunks", "1\n2\n3\n4\n5\n6\n7\n8\n", "one\n2\n3\n4\n5\n6\n7\neight\n"},
	{"no final newline added", "a\nb", "a\nb\n"},
	{"no final newline kept", "a\nb", "a\nc"},
	{"crlf", "a\r\nb\r\n", "a\r\nc\r\n"},
	{"insert at top", "x\ny\n", "w\nx\ny\n"},
}

func TestUnifiedMatchesDiffUtility(t *testing.T) {
	testenv.Tool(t, "diff", "apt-get install diffutils")
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			os.WriteFile(a, []byte(tc.a), 0o644)
			os.WriteFile(b, []byte(tc.b), 0o644)
			out, _ := exec.Command("diff", "-u", "--label", "old", "--label", "new", a, b).Output()
			got := Unified("old", "new", []byte(tc.a), []byte(tc.b))
			if d := cmp.Diff(string(out), got); d != "" {
				t.Errorf("diff -u vs Unified (-want +got):\n%s", d)
			}
		})
	}
}

func TestUnifiedApplies(t *testing.T) {
	for _, tc := range cases {
		d := Unified("a", "b", []byte(tc.a), []byte(tc.b))
		got, err := apply(tc.a, d)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, d)
		}
		if got != tc.b {
			t.Errorf("%s: patched = %q, want %q", tc.name, got, tc.b)
		}
	}
}

func FuzzUnified(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.a, tc.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		d := Unified("a", "b", []byte(a), []byte(b))
		if (a == b) != (d == "") {
			t.Fatalf("equal=%v but diff %q", a == b, d)
		}
		got, err := apply(a, d)
		if err != nil {
			t.Fatalf("%v\n%s", err, d)
		}
		if got != b {
			t.Fatalf("patched = %q, want %q\n%s", got, b, d)
		}
	})
}

// apply is a minimal patch(1) for checking our own output.
func apply(a, d string) (string, error) {
	if d == "" {
		return a, nil
	}
	old := strings.SplitAfter(a, "\n")
	if old[len(old)-1] == "" {
		old = old[:len(old)-1]
	}
	var out []string
	pos := 0
	lastAdded := false
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "+++ "):
		case strings.HasPrefix(l, "@@ "):
			f := strings.Fields(l)
			parts := strings.Split(strings.TrimPrefix(f[1], "-"), ",")
			start, _ := strconv.Atoi(parts[0])
			n := 1
			if len(parts) == 2 {
				n, _ = strconv.Atoi(parts[1])
			}
			if n > 0 {
				start--
			}
			for pos < start {
				out = append(out, old[pos])
				pos++
			}
			lastAdded = false
		case l == `\ No newline at end of file`:
			if lastAdded {
				out[len(out)-1] = strings.TrimSuffix(out[len(out)-1], "\n")
			}
		case l != "" && (l[0] == ' ' || l[0] == '-'):
			if pos >= len(old) || strings.TrimSuffix(old[pos], "\n") != l[1:] {
				return "", fmt.Errorf("context mismatch at %d: %q", pos, l)
			}
			if l[0] == ' ' {
				out = append(out, old[pos])
			}
			pos++
			lastAdded = false
		case l != "" && l[0] == '+':
			out = append(out, l[1:]+"\n")
			lastAdded = true
		default:
			return "", fmt.Errorf("bad line %q", l)
		}
	}
	out = append(out, old[pos:]...)
	return strings.Join(out, ""), nil
}
