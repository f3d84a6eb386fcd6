package hosts

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ec2boot/ec2boot/bootstrap/peers"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const corpus = "../../testdata/hosts"

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// fixedSet is the resolution every corpus case is rendered with.
func fixedSet() *peers.Set {
	return &peers.Set{
		Self: []peers.Host{{Name: "me.example.test", Addrs: addrs("10.0.0.9", "2001:db8::9"), Source: peers.FromSelf}},
		Roles: map[string][]peers.Host{
			"web": {{Name: "web-1.example.test", Role: "web", Addrs: addrs("10.0.2.1")}},
			"db": {
				{Name: "db-1.example.test", Role: "db", Addrs: addrs("10.0.1.1")},
				{Name: "db-2.example.test", Role: "db", Addrs: addrs("10.0.1.2", "2001:db8::12")},
			},
		},
	}
}

// edit runs the editor on one input: the new file, or the error, plus the
// warnings.
func edit(in []byte) (out []byte, warnings []string, err error) {
	f, err := Parse(in)
	if err != nil {
		return nil, nil, err
	}
	if f.HandEdited() {
		first, last := f.BlockLines()
		warnings = append(warnings, "hand edit in lines "+strconv.Itoa(first)+"-"+strconv.Itoa(last))
	}
	body, rejected := BuildBody(fixedSet(), true)
	warnings = append(warnings, rejected...)
	out = f.Compose(body)
	nf, err := Parse(out)
	if err != nil {
		return nil, nil, err
	}
	return out, append(warnings, Conflicts(nf)...), nil
}

func TestGoldenCorpus(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(corpus, "*.in"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, inPath := range inputs {
		name := strings.TrimSuffix(filepath.Base(inPath), ".in")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(inPath)
			if err != nil {
				t.Fatal(err)
			}
			out, warnings, editErr := edit(in)
			got := out
			if editErr != nil {
				got = []byte("ERROR: " + editErr.Error() + "\n")
			}
			gotWarn := strings.Join(warnings, "\n")
			if gotWarn != "" {
				gotWarn += "\n"
			}
			base := filepath.Join(corpus, name)
			if *update {
				writeGolden(t, base+".golden", got)
				writeGolden(t, base+".warnings", []byte(gotWarn))
				return
			}
			want, err := os.ReadFile(base + ".golden")
			if err != nil {
				t.Fatalf("missing golden file (run with -update): %v", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("output (-want +got):\n%s", d)
			}
			wantWarn, _ := os.ReadFile(base + ".warnings")
			if d := cmp.Diff(string(wantWarn), gotWarn); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			if editErr != nil {
				// A refused file is reported with line numbers.
				if !strings.HasPrefix(editErr.Error(), "line") {
					t.Errorf("error without line numbers: %v", editErr)
				}
				return
			}
			// Independently of the golden file: the bytes outside the block
			// are the input's, and a second run changes nothing.
			if d := cmp.Diff(outside(t, in, true), outside(t, out, false)); d != "" {
				t.Errorf("bytes outside the block changed (-in +out):\n%s", d)
			}
			again, _, err := edit(out)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("second run not a no-op: %v\n%s", err, cmp.Diff(string(out), string(again)))
			}
		})
	}
}

// outside returns the file without its block. appending says the block
// will be appended: the line ending then added after a missing final
// newline is the one byte sequence the editor may add outside the block.
func outside(t *testing.T, data []byte, appending bool) string {
	t.Helper()
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for i, l := range f.Lines {
		if f.HasBlock() && i >= f.Begin && i <= f.End {
			continue
		}
		b.Write(l.Raw)
	}
	if appending && !f.HasBlock() && len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		b.WriteString(f.EOL)
	}
	return b.String()
}

func writeGolden(t *testing.T, path string, data []byte) {
	t.Helper()
	if len(data) == 0 {
		os.Remove(path)
		return
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
