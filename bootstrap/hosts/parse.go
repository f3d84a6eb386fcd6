// Package hosts keeps one managed block in /etc/hosts: the peers' names and
// the instance's own, between "# BEGIN ec2boot" and "# END ec2boot" lines.
// Every byte outside the block is preserved exactly. The BEGIN line carries
// a hash of the block's body, so a hand edit inside it is noticed and
// reported before it is overwritten.
package hosts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// The marker lines, exactly as written.
const (
	beginMarker = "# BEGIN ec2boot"
	endMarker   = "# END ec2boot"
	hashPrefix  = " sha256="
	hashLen     = 16
	// bodyNotice is the first line of every block body.
	bodyNotice = "# Managed by ec2boot from its peers configuration: edits inside this block are overwritten."
)

var (
	beginRE = regexp.MustCompile(`^# BEGIN ec2boot(?: sha256=([0-9a-f]{16}))?$`)
	// markerish catches anything that looks like one of our markers, so a
	// near miss ("#BEGIN ec2boot", "# END ec2boot peers") is refused, never
	// guessed at.
	markerish = regexp.MustCompile(`(?i)^[ \t]*#+[ \t]*(BEGIN|END)[ \t]+ec2boot\b`)
)

// Line is one line of the file with its terminator ("\n", "\r\n" or none on
// the last line), byte for byte.
type Line struct {
	Raw []byte
	Num int // 1-based
}

// text is the line without its terminator.
func (l Line) text() string {
	return strings.TrimSuffix(strings.TrimSuffix(string(l.Raw), "\n"), "\r")
}

// File is a parsed hosts file.
type File struct {
	Lines []Line
	// Begin and End index Lines at the markers; -1 without a block.
	Begin, End int
	// StoredHash is the hash on the BEGIN line ("" when absent).
	StoredHash string
	// EOL is the file's line ending, "\r\n" when most lines use it.
	EOL string
}

// MarkerError is a malformed or unpaired marker; the file is not touched.
type MarkerError struct {
	Lines []int
	Msg   string
}

func (e *MarkerError) Error() string {
	nums := make([]string, len(e.Lines))
	for i, n := range e.Lines {
		nums[i] = fmt.Sprint(n)
	}
	word := "line"
	if len(nums) > 1 {
		word = "lines"
	}
	return fmt.Sprintf("%s %s: %s", word, strings.Join(nums, " and "), e.Msg)
}

// Parse splits data into lines and finds the managed block.
func Parse(data []byte) (*File, error) {
	f := &File{Begin: -1, End: -1}
	crlf, lf := 0, 0
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		raw := data
		if i >= 0 {
			raw = data[:i+1]
			if bytes.HasSuffix(raw, []byte("\r\n")) {
				crlf++
			} else {
				lf++
			}
		}
		f.Lines = append(f.Lines, Line{Raw: raw, Num: n})
		data = data[len(raw):]
	}
	f.EOL = "\n"
	if crlf > lf {
		f.EOL = "\r\n"
	}
	for i, l := range f.Lines {
		t := l.text()
		// Cheap filter first: markerish starts with '#' after blanks, and
		// the address lines that make up most files do not.
		if !strings.HasPrefix(strings.TrimLeft(t, " \t"), "#") || !markerish.MatchString(t) {
			continue
		}
		switch {
		case beginRE.MatchString(t):
			if f.Begin >= 0 {
				return nil, &MarkerError{[]int{f.Lines[f.Begin].Num, l.Num}, "two BEGIN ec2boot markers (nested or repeated managed blocks)"}
			}
			f.Begin = i
			f.StoredHash = beginRE.FindStringSubmatch(t)[1]
		case t == endMarker:
			if f.Begin < 0 {
				return nil, &MarkerError{[]int{l.Num}, "END ec2boot without a BEGIN ec2boot before it"}
			}
			if f.End >= 0 {
				return nil, &MarkerError{[]int{f.Lines[f.End].Num, l.Num}, "two END ec2boot markers"}
			}
			f.End = i
		default:
			return nil, &MarkerError{[]int{l.Num}, fmt.Sprintf("malformed marker %q (expected %q or %q exactly)", t, beginMarker+hashPrefix+"<hash>", endMarker)}
		}
	}
	if f.Begin >= 0 && f.End < 0 {
		return nil, &MarkerError{[]int{f.Lines[f.Begin].Num}, "BEGIN ec2boot without END ec2boot"}
	}
	return f, nil
}

// HasBlock reports whether the file has a managed block.
func (f *File) HasBlock() bool { return f.Begin >= 0 }

// body returns the lines between the markers, without terminators.
func (f *File) body() []string {
	if !f.HasBlock() {
		return nil
	}
	var out []string
	for _, l := range f.Lines[f.Begin+1 : f.End] {
		out = append(out, l.text())
	}
	return out
}

// HandEdited reports whether the block's body no longer matches the hash on
// its BEGIN line.
func (f *File) HandEdited() bool {
	return f.HasBlock() && f.StoredHash != bodyHash(f.body())
}

// bodyHash is independent of line endings, so converting the file to CRLF
// is not reported as an edit.
func bodyHash(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:hashLen]
}

// Compose returns the file with its block replaced by body (or appended at
// the end when there is none). Bytes outside the block are kept exactly;
// only a missing final newline before an appended block is added.
func (f *File) Compose(body []string) []byte {
	var out bytes.Buffer
	block := func(endEOL string) {
		out.WriteString(beginMarker + hashPrefix + bodyHash(body) + f.EOL)
		for _, l := range body {
			out.WriteString(l + f.EOL)
		}
		out.WriteString(endMarker + endEOL)
	}
	if f.HasBlock() {
		for _, l := range f.Lines[:f.Begin] {
			out.Write(l.Raw)
		}
		end := f.Lines[f.End]
		block(string(end.Raw[len(end.text()):]))
		for _, l := range f.Lines[f.End+1:] {
			out.Write(l.Raw)
		}
		return out.Bytes()
	}
	for _, l := range f.Lines {
		out.Write(l.Raw)
	}
	if n := len(f.Lines); n > 0 && !bytes.HasSuffix(f.Lines[n-1].Raw, []byte("\n")) {
		out.WriteString(f.EOL)
	}
	block(f.EOL)
	return out.Bytes()
}

// Entry is one line of an /etc/hosts file outside our block: an address and
// its names.
type Entry struct {
	Line  int
	Addr  string
	Names []string // lower case
}

// Entries returns the host entries outside the managed block.
func (f *File) Entries() []Entry {
	var out []Entry
	for i, l := range f.Lines {
		if f.HasBlock() && i >= f.Begin && i <= f.End {
			continue
		}
		t := l.text()
		if j := strings.IndexByte(t, '#'); j >= 0 {
			t = t[:j]
		}
		fields := strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) < 2 {
			continue
		}
		e := Entry{Line: l.Num, Addr: fields[0]}
		for _, n := range fields[1:] {
			e.Names = append(e.Names, strings.ToLower(n))
		}
		out = append(out, e)
	}
	return out
}

// BlockLines returns the line numbers of the block body in the file.
func (f *File) BlockLines() (first, last int) {
	if !f.HasBlock() {
		return 0, 0
	}
	return f.Lines[f.Begin].Num + 1, f.Lines[f.End].Num - 1
}
