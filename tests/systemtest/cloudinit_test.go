package systemtest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// The documented user-data examples (docs/cloud-init.md).
func exampleFile(t *testing.T, name string) string {
	return filepath.Join(repoRoot(t), "testdata", "cloud-init", name)
}

func TestCloudInitSchema(t *testing.T) {
	ci := needTool(t, "cloud-init", "apt-get install cloud-init")
	for _, name := range []string{"cloud-config.yaml", "install-ec2boot.yaml"} {
		out, err := runErr(time.Minute, nil, ci, "schema", "--config-file", exampleFile(t, name))
		if err != nil || !strings.Contains(out, "Valid cloud-config") {
			t.Errorf("cloud-init schema %s: %v\n%s", name, err, out)
		}
	}
	// The check can fail: the same file with a misspelt write_files key.
	b, err := os.ReadFile(exampleFile(t, "install-ec2boot.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, bytes.Replace(b, []byte("permissions:"), []byte("permission:"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runErr(time.Minute, nil, ci, "schema", "--config-file", bad); err == nil {
		t.Errorf("cloud-init schema accepted a misspelt key:\n%s", out)
	}
}

// mimeParts decodes gzip'd multipart user-data into filename -> content
// and content type.
func mimeParts(t *testing.T, data []byte) (map[string]string, map[string]string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not MIME: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("top-level type %q: %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	content, types := map[string]string{}, map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		content[p.FileName()], types[p.FileName()] = string(b), ct
	}
	return content, types
}

// TestCloudInitMIME checks that the committed user-data is what
// `cloud-init devel make-mime` makes from the two committed parts today
// (the boundary aside), gzip-compressed, with ec2boot's part under
// text/x-ec2boot and ec2boot.toml.
func TestCloudInitMIME(t *testing.T) {
	committed, err := os.ReadFile(exampleFile(t, "user-data.mime.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) > 16*1024 {
		t.Errorf("user-data.mime.gz is %d bytes, over EC2's 16 KiB", len(committed))
	}
	content, types := mimeParts(t, committed)
	want := map[string]string{}
	for _, name := range []string{"cloud-config.yaml", "ec2boot.toml"} {
		b, err := os.ReadFile(exampleFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		want[name] = string(b)
	}
	if diff := cmp.Diff(want, content); diff != "" {
		t.Errorf("user-data.mime.gz is stale; remake it as docs/cloud-init.md says (-sources +committed):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"cloud-config.yaml": "text/cloud-config", "ec2boot.toml": "text/x-ec2boot"}, types); diff != "" {
		t.Errorf("part types (-want +got):\n%s", diff)
	}

	// cloud-init's own user-data processor sees both parts: it handles
	// the cloud-config and skips ours as an unknown type.
	const python = "/usr/bin/python3" // cloud-init imports only under the system Python
	script := `import sys
from cloudinit import helpers, user_data
d = sys.argv[2]
msg = user_data.UserDataProcessor(helpers.Paths({"cloud_dir": d + "/cloud", "run_dir": d + "/run"})).process(open(sys.argv[1], "rb").read())
for p in msg.walk():
    if not p.is_multipart():
        print(p.get_content_type(), p.get_filename())`
	// Only a missing cloud-init is a reason to skip (outside CI); any other
	// error of its processor on our user-data is what this test is for.
	if out, err := runErr(time.Minute, nil, python, "-c", "import cloudinit.user_data"); err != nil {
		testenv.Missing(t, "cloud-init's Python modules are not installed (%v): apt-get install cloud-init\n%s", err, out)
	}
	out, err := runErr(time.Minute, nil, python, "-c", script, exampleFile(t, "user-data.mime.gz"), t.TempDir())
	if err != nil {
		t.Fatalf("cloud-init's user-data processor failed on our user-data: %v\n%s", err, out)
	}
	for _, want := range []string{"text/cloud-config cloud-config.yaml", "text/x-ec2boot ec2boot.toml"} {
		if !strings.Contains(out, want) {
			t.Errorf("cloud-init's processor does not see %q:\n%s", want, out)
		}
	}

	ci := needTool(t, "cloud-init", "apt-get install cloud-init")
	cmd := "cd \"$1\" && exec \"$2\" devel make-mime -a cloud-config.yaml:cloud-config -a ec2boot.toml:x-ec2boot -f"
	fresh, err := runErr(time.Minute, nil, "sh", "-c", cmd, "sh", filepath.Join(repoRoot(t), "testdata", "cloud-init"), ci)
	if err != nil {
		t.Fatalf("make-mime: %v\n%s", err, fresh)
	}
	// make-mime warns about the custom type on stderr (mixed into out here).
	start := strings.Index(fresh, "Content-Type: multipart/mixed")
	if start < 0 {
		t.Fatalf("make-mime printed no MIME:\n%s", fresh)
	}
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	_, _ = zw.Write([]byte(fresh[start:]))
	_ = zw.Close()
	freshParts, _ := mimeParts(t, zbuf.Bytes())
	if diff := cmp.Diff(content, freshParts); diff != "" {
		t.Errorf("make-mime now makes different parts (-committed +make-mime):\n%s", diff)
	}
}

// TestCloudInitThroughEc2boot feeds the examples to `ec2boot validate`: the
// MIME user-data as EC2 would serve it, and the configuration the plain
// cloud-config writes to /etc/ec2boot/config.toml.
func TestCloudInitThroughEc2boot(t *testing.T) {
	bin := binary(t)
	// validate compiles the templates: a root with the shipped ones
	// installed where the package puts them.
	root := t.TempDir()
	run(t, time.Minute, "mkdir", "-p", filepath.Join(root, "usr", "share", "ec2boot"))
	run(t, time.Minute, "cp", "-r", filepath.Join(repoRoot(t), "templates"), filepath.Join(root, "usr", "share", "ec2boot", "templates"))
	out, err := runErr(time.Minute, nil, bin, "--root", root, "validate", exampleFile(t, "user-data.mime.gz"))
	if err != nil {
		t.Errorf("ec2boot validate user-data.mime.gz: %v\n%s", err, out)
	}
	b, err := os.ReadFile(exampleFile(t, "install-ec2boot.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		WriteFiles []struct {
			Path    string `yaml:"path"`
			Content string `yaml:"content"`
		} `yaml:"write_files"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range doc.WriteFiles {
		if f.Path != "/root/ec2boot-config.toml" {
			continue
		}
		found = true
		p := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(p, []byte(f.Content), 0o640); err != nil {
			t.Fatal(err)
		}
		if out, err := runErr(time.Minute, nil, bin, "--root", root, "validate", p); err != nil {
			t.Errorf("ec2boot validate of the config install-ec2boot.yaml writes: %v\n%s", err, out)
		}
	}
	if !found {
		t.Error("install-ec2boot.yaml stages no configuration in /root/ec2boot-config.toml")
	}
	// The check can fail: a misspelt key in the ec2boot part.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	tomlPart, _ := os.ReadFile(exampleFile(t, "ec2boot.toml"))
	if err := os.WriteFile(bad, regexp.MustCompile(`(?m)^username`).ReplaceAll(tomlPart, []byte("user_name")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runErr(time.Minute, nil, bin, "--root", root, "validate", bad); err == nil {
		t.Errorf("ec2boot validate accepted a misspelt key:\n%s", out)
	}
}

// TestDocsShowExamples keeps docs/cloud-init.md in step with the example
// files the other tests check: each file, without its header comment,
// appears in the page verbatim.
func TestDocsShowExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "cloud-init.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cloud-config.yaml", "ec2boot.toml", "install-ec2boot.yaml"} {
		b, err := os.ReadFile(exampleFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		first := ""
		if strings.HasPrefix(body, "#cloud-config\n") {
			first, body = "#cloud-config\n", strings.TrimPrefix(body, "#cloud-config\n")
		}
		// The header is the leading comment block, up to the first blank line.
		if i := strings.Index(body, "\n\n"); i >= 0 && strings.HasPrefix(body, "#") {
			body = body[i+2:]
		}
		if !strings.Contains(string(doc), first+body) {
			t.Errorf("docs/cloud-init.md does not show testdata/cloud-init/%s as it is", name)
		}
	}
}
