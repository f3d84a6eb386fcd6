package userdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// boundaryLine matches the header parameter make-mime writes.
var boundaryParam = regexp.MustCompile(`; boundary="([^"]+)"`)

// mimeWithPart builds a multipart in make-mime's layout around raw part
// bodies, for faults the real tool never produces.
func mimeWithPart(headers []string, bodies []string) []byte {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n")
	for i := range bodies {
		b.WriteString("--XX\n" + headers[i] + "\n\n" + bodies[i] + "\n")
	}
	b.WriteString("--XX--\n")
	return []byte(b.String())
}

// outcome is what a case checks: enough of the Result to mean something,
// and the exact error text.
type outcome struct {
	Format   Format
	Gzip     bool
	TOML     string
	Source   string
	Describe string
	Err      string
}

func outcomeOf(r Result, err error) outcome {
	if err != nil {
		return outcome{Err: err.Error()}
	}
	return outcome{Format: r.Format, Gzip: r.Gzip, TOML: string(r.TOML), Source: r.Source, Describe: r.Describe()}
}

func TestExtract(t *testing.T) {
	toml := readTestdata(t, "ec2boot.toml")
	real := readTestdata(t, "multipart.mime")
	boundary := boundaryParam.FindSubmatch(real)[1]
	b64TOML := base64.StdEncoding.EncodeToString(toml)
	// Our part's body in the real sample, to corrupt it in place.
	ourBody := real[bytes.Index(real, []byte(`filename="ec2boot.toml"`))+len(`filename="ec2boot.toml"`)+2:]
	bomb := gz(t, make([]byte, 2*MaxDecompressed))
	corruptCRC := gz(t, toml)
	corruptCRC[len(corruptCRC)-6] ^= 0xff
	ourHeader := "Content-Type: text/x-ec2boot\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"ec2boot.toml\""

	tests := []struct {
		name string
		in   []byte
		want outcome
	}{
		{"nil (no user-data)", nil, outcome{Format: Empty, Source: "user-data", Describe: "empty: no ec2boot configuration"}},
		{"whitespace only", []byte(" \n\t\n"), outcome{Format: Empty, Source: "user-data", Describe: "empty: no ec2boot configuration"}},
		{"gzip of nothing", gz(t, nil), outcome{Format: Empty, Gzip: true, Source: "user-data", Describe: "gzip, empty: no ec2boot configuration"}},
		{"raw TOML", toml, outcome{Format: TOML, TOML: string(toml), Source: "user-data", Describe: "TOML, 463 bytes"}},
		{"raw TOML with CRLF", []byte("[disk]\r\nwarn_percent = 90\r\n"), outcome{Format: TOML, TOML: "[disk]\r\nwarn_percent = 90\r\n", Source: "user-data", Describe: "TOML, 27 bytes"}},
		{"TOML with a byte order mark", []byte("\ufeff[disk]\n"), outcome{Format: TOML, TOML: "[disk]\n", Source: "user-data", Describe: "TOML, 7 bytes"}},
		{"gzip TOML", gz(t, toml), outcome{Format: TOML, Gzip: true, TOML: string(toml), Source: "user-data", Describe: "gzip, TOML, 463 bytes"}},
		{"shell script", []byte("#!/bin/bash\necho hi\n"), outcome{Format: ShellScript, Source: "user-data", Describe: "shell script: no ec2boot configuration"}},
		{"cloud-config, upper case, indented", []byte("  #Cloud-Config\nruncmd: []\n"), outcome{Format: CloudConfig, Source: "user-data", Describe: "#cloud-config: no ec2boot configuration"}},
		{"cloud-config-archive", []byte("#cloud-config-archive\n- type: foo\n"), outcome{Format: ConfigArchive, Source: "user-data", Describe: "#cloud-config-archive: no ec2boot configuration"}},
		{"boothook", []byte("#cloud-boothook\n#!/bin/sh\n"), outcome{Format: CloudBoothook, Source: "user-data", Describe: "#cloud-boothook: no ec2boot configuration"}},
		{"include", []byte("#include\nhttps://example.com/ud\n"), outcome{Format: Include, Source: "user-data", Describe: "#include: no ec2boot configuration"}},
		{"include-once", []byte("#include-once https://example.com/ud\n"), outcome{Format: IncludeOnce, Source: "user-data", Describe: "#include-once: no ec2boot configuration"}},
		{"jinja", []byte("## template: jinja\n#cloud-config\n"), outcome{Format: Jinja, Source: "user-data", Describe: "jinja template: no ec2boot configuration"}},
		{"gzip shell script", gz(t, []byte("#!/bin/sh\n")), outcome{Format: ShellScript, Gzip: true, Source: "user-data", Describe: "gzip, shell script: no ec2boot configuration"}},
		{"windows", []byte("<powershell>\nStart-Service x\n</powershell>\n"), outcome{Format: Windows, Source: "user-data", Describe: "Windows launch script: no ec2boot configuration"}},
		{"json", []byte(`{"ignition": {"version": "3.4.0"}}`), outcome{Format: JSON, Source: "user-data", Describe: "JSON: no ec2boot configuration"}},
		{"TOML comment is not a script", []byte("# hosts only\n[hosts]\n"), outcome{Format: TOML, TOML: "# hosts only\n[hosts]\n", Source: "user-data", Describe: "TOML, 21 bytes"}},
		{"TOML that mentions MIME-Version: is still TOML", []byte("[vars]\nh = \"MIME-Version: 1.0\"\n"), outcome{Format: TOML, TOML: "[vars]\nh = \"MIME-Version: 1.0\"\n", Source: "user-data", Describe: "TOML, 31 bytes"}},
		{
			"multipart with CRLF line endings",
			bytes.ReplaceAll(real, []byte("\n"), []byte("\r\n")),
			outcome{Format: MIME, TOML: string(toml), Source: "user-data part 2 (ec2boot.toml)", Describe: "MIME multipart with 2 parts (text/cloud-config cloud.yaml, text/x-ec2boot ec2boot.toml): ec2boot configuration in part 2, 463 bytes"},
		},
		{
			"multipart gzip inside a part (our type, gzip magic)",
			mimeWithPart([]string{ourHeader}, []string{base64.StdEncoding.EncodeToString(gz(t, toml))}),
			outcome{Format: MIME, TOML: string(toml), Source: "user-data part 1 (ec2boot.toml)", Describe: "MIME multipart with 1 part (text/x-ec2boot ec2boot.toml): ec2boot configuration in part 1, 463 bytes after gzip"},
		},
		{
			"single-part MIME message of our type",
			[]byte("Content-Type: text/x-ec2boot\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\n" + b64TOML + "\n"),
			outcome{Format: MIME, TOML: string(toml), Source: "user-data", Describe: "MIME message (text/x-ec2boot): ec2boot configuration, 463 bytes"},
		},
		{
			"single-part MIME message not ours",
			[]byte("Content-Type: text/x-shellscript\nMIME-Version: 1.0\n\n#!/bin/sh\n"),
			outcome{Format: MIME, Source: "user-data", Describe: "MIME message (text/x-shellscript): no ec2boot configuration"},
		},
		{
			"filename with a directory, upper case",
			mimeWithPart([]string{"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"conf/EC2BOOT.TOML\""}, []string{"[hosts]"}),
			outcome{Format: MIME, TOML: "[hosts]", Source: "user-data part 1 (conf/EC2BOOT.TOML)", Describe: "MIME multipart with 1 part (text/plain conf/EC2BOOT.TOML): ec2boot configuration in part 1, 7 bytes"},
		},
		{
			"empty multipart",
			[]byte("Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n--XX--\n"),
			outcome{Format: MIME, Source: "user-data", Describe: "MIME multipart with 0 parts: no ec2boot configuration"},
		},

		// Errors: each names what and where.
		{"oversize", append(bytes.Repeat([]byte("#"), MaxSize), '\n'), outcome{Err: "user-data: 16385 bytes: too large: the metadata service allows at most 16384"}},
		{"gzip bomb", bomb, outcome{Err: "user-data: gzip: expands to more than 1048576 bytes"}},
		{
			"gzip bomb in a part",
			mimeWithPart([]string{ourHeader}, []string{base64.StdEncoding.EncodeToString(bomb)}),
			outcome{Err: "user-data: part 1 (ec2boot.toml): gzip: expands to more than 1048576 bytes"},
		},
		{"truncated gzip", gz(t, toml)[:100], outcome{Err: "user-data: gzip: unexpected EOF"}},
		{"gzip checksum", corruptCRC, outcome{Err: "user-data: gzip: invalid checksum"}},
		{"gzip header only", []byte{0x1f, 0x8b}, outcome{Err: "user-data: gzip: unexpected EOF"}},
		{
			"bad base64 in our part",
			bytes.Replace(real, ourBody[:12], append(append([]byte{}, ourBody[:11]...), '!'), 1),
			outcome{Err: "user-data: part 2 (ec2boot.toml): base64: illegal base64 data at input byte 11"},
		},
		{
			"bad base64 in a part that is not ours is not our problem",
			mimeWithPart([]string{"Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64", ourHeader}, []string{"!!!", b64TOML}),
			outcome{Format: MIME, TOML: string(toml), Source: "user-data part 2 (ec2boot.toml)", Describe: "MIME multipart with 2 parts (text/x-shellscript, text/x-ec2boot ec2boot.toml): ec2boot configuration in part 2, 463 bytes"},
		},
		{
			"boundary parameter missing",
			boundaryParam.ReplaceAll(real, nil),
			outcome{Err: "user-data: multipart/mixed without a boundary parameter"},
		},
		{
			"boundary never appears",
			bytes.Replace(real, boundary, []byte("other"), 1),
			outcome{Err: `user-data: multipart/mixed: boundary "other" not found`},
		},
		{
			"closing boundary missing",
			real[:bytes.LastIndex(real, []byte("--"+string(boundary)+"--"))],
			outcome{Err: "user-data: part 2 (ec2boot.toml): MIME: no closing boundary: unexpected EOF"},
		},
		{
			"two ec2boot parts",
			mimeWithPart([]string{ourHeader, ourHeader}, []string{b64TOML, b64TOML}),
			outcome{Err: "user-data: parts 1 and 2 both carry ec2boot configuration: keep one"},
		},
		{"raw TOML not UTF-8", []byte("[vars]\nx = \"\xff\"\n"), outcome{Err: "user-data: TOML: not UTF-8: invalid byte at offset 12"}},
		{
			"part not UTF-8",
			mimeWithPart([]string{ourHeader}, []string{base64.StdEncoding.EncodeToString([]byte("a = \"\xc3\x28\""))}),
			outcome{Err: "user-data: part 1 (ec2boot.toml): TOML: not UTF-8: invalid byte at offset 5"},
		},
		{
			"unknown transfer encoding",
			mimeWithPart([]string{"Content-Type: text/x-ec2boot\nContent-Transfer-Encoding: x-uuencode"}, []string{"begin 644"}),
			outcome{Err: `user-data: part 1: unknown Content-Transfer-Encoding "x-uuencode"`},
		},
		{
			"gzip type without gzip data",
			mimeWithPart([]string{"Content-Type: application/x-gzip\nContent-Disposition: attachment; filename=\"ec2boot.toml\""}, []string{"[hosts]"}),
			outcome{Err: "user-data: part 1 (ec2boot.toml): content type application/x-gzip, but the data is not gzip"},
		},
		{
			"broken Content-Type",
			[]byte("Content-Type: ;;\nMIME-Version: 1.0\n\nx\n"),
			outcome{Err: `user-data: Content-Type ";;": mime: no media type`},
		},
		{"nested too deep", nested(5, ourHeader, b64TOML), outcome{Err: "user-data: part 1.1.1.1: multipart/mixed nested more than 4 levels deep"}},
		{"nested to the limit", nested(4, ourHeader, b64TOML), outcome{Format: MIME, TOML: string(toml), Source: "user-data part 1.1.1.1 (ec2boot.toml)", Describe: "MIME multipart with 1 part (text/x-ec2boot ec2boot.toml): ec2boot configuration in part 1.1.1.1, 463 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Extract(tt.in)
			if diff := cmp.Diff(tt.want, outcomeOf(r, err)); diff != "" {
				t.Errorf("Extract (-want +got):\n%s", diff)
			}
		})
	}
}

// nested wraps our part in depth multiparts.
func nested(depth int, header, body string) []byte {
	msg := header + "\n\n" + body
	for i := depth; i > 0; i-- {
		b := fmt.Sprintf("B%d", i)
		msg = fmt.Sprintf("Content-Type: multipart/mixed; boundary=%q\n\n--%s\n%s\n--%s--", b, b, msg, b)
	}
	return []byte("MIME-Version: 1.0\n" + msg + "\n")
}

func TestOversizeIsErrTooLarge(t *testing.T) {
	_, err := Extract(make([]byte, MaxSize+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := Extract(bytes.Repeat([]byte("#"), MaxSize)); err != nil {
		t.Fatalf("exactly %d bytes: %v", MaxSize, err)
	}
}
