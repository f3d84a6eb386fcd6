// Package userdata finds ec2boot's TOML configuration in an instance's
// user-data. The same user-data usually also feeds cloud-init, so it may be
// our TOML on its own, gzip-compressed, a cloud-init multipart MIME archive
// (as `cloud-init devel make-mime` writes it) carrying our part among
// others, or something that is not for us at all: a shell script or a plain
// #cloud-config. The last case is normal and is not an error; the run then
// uses the local configuration only.
package userdata

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSize is the most user-data the metadata service hands out (16 KiB
// before any base64 the launch API applies). Anything larger did not come
// from there.
const MaxSize = 16 * 1024

// MaxDecompressed bounds the total bytes gzip may expand to, across the
// whole user-data and all its parts: 16 KiB of gzip can expand to about
// 16 MiB, and nested gzip to far more, while a real configuration is a few
// KiB.
const MaxDecompressed = 1 << 20

// maxDepth bounds nested multipart archives.
const maxDepth = 4

// The content types that mark our part. The filename is the other way.
var ourTypes = []string{"text/x-ec2boot", "text/x-ec2boot-toml"}

// OurFilename marks our part when its content type is something else.
const OurFilename = "ec2boot.toml"

// ErrTooLarge is wrapped by the error for user-data over MaxSize.
var ErrTooLarge = errors.New("too large")

// Format says what the user-data (after any gzip) turned out to be.
type Format string

// The formats Extract recognises. The ones that are not ours follow
// cloud-init's own detection by first line.
const (
	Empty         Format = "empty"
	TOML          Format = "TOML"
	MIME          Format = "MIME"
	ShellScript   Format = "shell script"
	CloudConfig   Format = "#cloud-config"
	CloudBoothook Format = "#cloud-boothook"
	Include       Format = "#include"
	IncludeOnce   Format = "#include-once"
	PartHandler   Format = "#part-handler"
	ConfigArchive Format = "#cloud-config-archive"
	ConfigJSONP   Format = "#cloud-config-jsonp"
	Jinja         Format = "jinja template"
	Windows       Format = "Windows launch script"
	JSON          Format = "JSON"
)

// Result is what Extract found.
type Result struct {
	// TOML is the ec2boot configuration, nil when the user-data has none.
	TOML []byte
	// Source names where TOML came from in messages, and is the name to give
	// config.Source: "user-data", or "user-data part 2 (ec2boot.toml)".
	Source string
	// Size is the raw user-data's length.
	Size int
	// Gzip is set when the whole user-data was gzip-compressed.
	Gzip   bool
	Format Format
	// Parts lists a MIME message's leaf parts in cloud-init's walk order.
	Parts []Part
}

// Part is one leaf of a MIME message.
type Part struct {
	// Index is 1-based, dotted for nested multiparts: "2", "3.1".
	Index       string
	ContentType string // media type, lower case, without parameters
	Filename    string
	// Size is the part's body as transmitted (before base64 or gzip
	// decoding), except for our part, where it is the decoded TOML's size.
	Size   int
	Gzip   bool // our part was gzip-compressed inside the archive
	Chosen bool // this part is the ec2boot configuration
}

// Found reports whether the user-data carries ec2boot configuration.
func (r Result) Found() bool { return r.TOML != nil }

// Describe says in one line what the user-data was and what was used, for
// the log: "gzip, MIME multipart with 2 parts (text/cloud-config cloud.yaml,
// text/x-ec2boot ec2boot.toml): ec2boot configuration in part 2, 463 bytes".
func (r Result) Describe() string {
	var b strings.Builder
	if r.Gzip {
		b.WriteString("gzip, ")
	}
	switch r.Format {
	case Empty:
		b.WriteString("empty")
	case TOML:
		fmt.Fprintf(&b, "TOML, %d bytes", len(r.TOML))
	case MIME:
		if r.single() {
			fmt.Fprintf(&b, "MIME message (%s)", r.Parts[0].label())
		} else {
			fmt.Fprintf(&b, "MIME multipart with %d part%s", len(r.Parts), plural(len(r.Parts)))
			for i, p := range r.Parts {
				if i == 0 {
					b.WriteString(" (")
				} else {
					b.WriteString(", ")
				}
				b.WriteString(p.label())
			}
			if len(r.Parts) > 0 {
				b.WriteString(")")
			}
		}
	default:
		b.WriteString(string(r.Format))
	}
	for _, p := range r.Parts {
		if p.Chosen {
			if r.single() {
				fmt.Fprintf(&b, ": ec2boot configuration, %d bytes", p.Size)
			} else {
				fmt.Fprintf(&b, ": ec2boot configuration in part %s, %d bytes", p.Index, p.Size)
			}
			if p.Gzip {
				b.WriteString(" after gzip")
			}
			return b.String()
		}
	}
	if r.Format != TOML {
		b.WriteString(": no ec2boot configuration")
	}
	return b.String()
}

// single reports whether the MIME message was one part, not a multipart.
func (r Result) single() bool { return len(r.Parts) == 1 && r.Parts[0].Index == "" }

func (p Part) label() string {
	s := p.ContentType
	if p.Filename != "" {
		s += " " + p.Filename
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Extract finds the ec2boot configuration in raw user-data. Data that is
// not for ec2boot is not an error: the Result says what it was and carries
// no TOML. Errors are for data that is ours or meant to be decodable but is
// not: oversize, bad gzip, broken MIME, bad base64, non-UTF-8 TOML.
func Extract(raw []byte) (Result, error) {
	r := Result{Size: len(raw), Source: "user-data"}
	if len(raw) > MaxSize {
		return r, fmt.Errorf("user-data: %d bytes: %w: the metadata service allows at most %d", len(raw), ErrTooLarge, MaxSize)
	}
	budget := &budget{left: MaxDecompressed}
	data := raw
	if isGzip(data) {
		out, err := budget.gunzip(data)
		if err != nil {
			return r, fmt.Errorf("user-data: %w", err)
		}
		data, r.Gzip = out, true
	}
	if len(bytes.TrimSpace(data)) == 0 {
		r.Format = Empty
		return r, nil
	}
	if isMIME(data) {
		r.Format = MIME
		if err := extractMIME(data, budget, &r); err != nil {
			return r, err
		}
		return r, nil
	}
	if f, ok := foreignFormat(data); ok {
		r.Format = f
		return r, nil
	}
	toml, err := asTOML(data)
	if err != nil {
		return r, fmt.Errorf("user-data: %w", err)
	}
	r.Format, r.TOML = TOML, toml
	return r, nil
}

// asTOML checks that data can be TOML text and strips a byte order mark,
// which editors add and the TOML parser refuses.
func asTOML(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("TOML: not UTF-8: invalid byte at offset %d", invalidUTF8(data))
	}
	return data, nil
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// cloud-init decides what a non-MIME text is by its first characters
// (lower-cased, leading space skipped), longest prefix first; these are its
// prefixes. A document so marked is for cloud-init, not for us.
var cloudInitPrefixes = []struct {
	prefix string
	format Format
}{
	{"#cloud-config-archive", ConfigArchive},
	{"#cloud-config-jsonp", ConfigJSONP},
	{"## template: jinja", Jinja},
	{"#cloud-boothook", CloudBoothook},
	{"#include-once", IncludeOnce},
	{"#part-handler", PartHandler},
	{"#cloud-config", CloudConfig},
	{"#include", Include},
	{"#!", ShellScript},
}

// foreignFormat recognises text that is not TOML. Besides cloud-init's
// markers, a TOML document can never begin with '<' (Windows launch
// scripts: <powershell>, <script>) or '{' (JSON, e.g. Ignition configs).
func foreignFormat(data []byte) (Format, bool) {
	head := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	if len(head) > 64 {
		head = head[:64]
	}
	lower := strings.ToLower(string(head))
	for _, p := range cloudInitPrefixes {
		if strings.HasPrefix(lower, p.prefix) {
			return p.format, true
		}
	}
	switch head[0] {
	case '<':
		return Windows, true
	case '{':
		return JSON, true
	}
	return "", false
}

// isMIME reports whether data starts with a header block that names a
// MIME message: header fields (or their continuation lines) up to the first
// empty line, one of them Content-Type or MIME-Version. The first line of a
// TOML document is a table header, a comment or "key = value", never a bare
// word followed by a colon, so this cannot mistake TOML for MIME.
func isMIME(data []byte) bool {
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return false
		}
		if n > 0 && (line[0] == ' ' || line[0] == '\t') {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
		if strings.EqualFold(name, "Content-Type") || strings.EqualFold(name, "MIME-Version") {
			return true
		}
	}
	return false
}
