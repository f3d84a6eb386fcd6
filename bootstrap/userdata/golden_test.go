package userdata

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// testdata is the repository's shared user-data samples, made by
// cloud-init's own tools (see generate.sh there).
var testdata = filepath.Join("..", "..", "testdata", "userdata")

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// render writes a result (or error) as the text the .golden files hold.
func render(r Result, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "describe: %s\n", r.Describe())
	fmt.Fprintf(&b, "format: %s\ngzip: %v\nsize: %d\nsource: %s\n", r.Format, r.Gzip, r.Size, r.Source)
	for _, p := range r.Parts {
		fmt.Fprintf(&b, "part %q: type=%s filename=%q size=%d gzip=%v chosen=%v\n", p.Index, p.ContentType, p.Filename, p.Size, p.Gzip, p.Chosen)
	}
	if r.TOML == nil {
		b.WriteString("toml: none\n")
	} else {
		fmt.Fprintf(&b, "toml:\n%s", r.TOML)
	}
	return b.String()
}

// TestGolden runs every sample in testdata/userdata through Extract and
// compares the outcome with its .golden file. The samples with our part
// must also yield exactly ec2boot.toml, byte for byte.
func TestGolden(t *testing.T) {
	want := readTestdata(t, "ec2boot.toml")
	samples := []struct {
		file  string
		ours  bool
		isErr bool
	}{
		{file: "ec2boot.toml", ours: true},
		{file: "raw.toml.gz", ours: true},
		{file: "cloud.yaml"},
		{file: "script.sh"},
		{file: "multipart.mime", ours: true},
		{file: "multipart.mime.gz", ours: true},
		{file: "multipart-toml-type.mime", ours: true},
		{file: "multipart-by-filename.mime", ours: true},
		{file: "multipart-gzip-part.mime", ours: true},
		{file: "multipart-nested.mime", ours: true},
		{file: "multipart-quoted-printable.mime", ours: true},
		{file: "multipart-without-ours.mime"},
	}
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			r, err := Extract(readTestdata(t, s.file))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if s.ours {
				if diff := cmp.Diff(string(want), string(r.TOML)); diff != "" {
					t.Errorf("TOML differs from ec2boot.toml (-want +got):\n%s", diff)
				}
			} else if r.TOML != nil {
				t.Errorf("found TOML in a sample without an ec2boot part:\n%s", r.TOML)
			}
			checkGolden(t, s.file+".golden", render(r, err))
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdata, name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}
