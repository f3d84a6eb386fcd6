// Package mountinfo parses /proc/PID/mountinfo (proc(5)), the kernel's
// per-namespace view of what is mounted where, with mount ids, device
// numbers and the root of each mount inside its filesystem. Relocation
// needs all of these: bind mounts show up with the same device as their
// source and only the root field tells them apart.
package mountinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo.
type Mount struct {
	ID       int
	ParentID int
	Major    uint32
	Minor    uint32
	// Root is the path inside the filesystem that is mounted here: "/"
	// for a whole filesystem, a subdirectory for a bind mount of one.
	Root       string
	MountPoint string
	Options    string
	// Optional holds the optional fields (shared:N, master:N, ...).
	Optional     []string
	FSType       string
	Source       string
	SuperOptions string
}

// Dev returns "major:minor", as used under /sys/dev/block.
func (m Mount) Dev() string { return fmt.Sprintf("%d:%d", m.Major, m.Minor) }

// Table is a parsed mountinfo, in the kernel's order (later lines are
// mounted on top of earlier ones at the same mount point).
type Table []Mount

// Self reads /proc/self/mountinfo.
func Self() (Table, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	defer f.Close()
	t, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("/proc/self/mountinfo: %w", err)
	}
	return t, nil
}

// Parse reads mountinfo text. A malformed line is an error naming its
// line number: a table we cannot fully read must not be trusted for
// decisions like "is this already mounted".
func Parse(r io.Reader) (Table, error) {
	var t Table
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := ParseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		t = append(t, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// ParseLine parses one mountinfo line:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func ParseLine(line string) (Mount, error) {
	f := strings.Split(line, " ")
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 6 || sep < 0 || len(f) < sep+3 {
		return Mount{}, fmt.Errorf("malformed mountinfo line %q", truncate(line))
	}
	var m Mount
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil || m.ID < 0 {
		return Mount{}, fmt.Errorf("bad mount id %q", truncate(f[0]))
	}
	if m.ParentID, err = strconv.Atoi(f[1]); err != nil || m.ParentID < 0 {
		return Mount{}, fmt.Errorf("bad parent id %q", truncate(f[1]))
	}
	maj, min, ok := strings.Cut(f[2], ":")
	ma, err1 := strconv.ParseUint(maj, 10, 32)
	mi, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return Mount{}, fmt.Errorf("bad device %q", truncate(f[2]))
	}
	m.Major, m.Minor = uint32(ma), uint32(mi)
	m.Root = Unescape(f[3])
	m.MountPoint = Unescape(f[4])
	if !strings.HasPrefix(m.MountPoint, "/") {
		return Mount{}, fmt.Errorf("mount point %q is not absolute", truncate(m.MountPoint))
	}
	m.Options = f[5]
	if sep > 6 {
		m.Optional = append([]string(nil), f[6:sep]...)
	}
	m.FSType = Unescape(f[sep+1])
	m.Source = Unescape(f[sep+2])
	if len(f) > sep+3 {
		m.SuperOptions = strings.Join(f[sep+3:], " ")
	}
	return m, nil
}

// At returns the mounts whose mount point is exactly p, bottom first.
func (t Table) At(p string) []Mount {
	var out []Mount
	for _, m := range t {
		if m.MountPoint == p {
			out = append(out, m)
		}
	}
	return out
}

// Top returns the mount visible at exactly p (the last one mounted there).
func (t Table) Top(p string) (Mount, bool) {
	at := t.At(p)
	if len(at) == 0 {
		return Mount{}, false
	}
	return at[len(at)-1], true
}

// Containing returns the visible mount that p lives on: the last mounted
// entry whose mount point is the longest prefix of p.
func (t Table) Containing(p string) (Mount, bool) {
	best, found := Mount{}, false
	for _, m := range t {
		if !under(p, m.MountPoint) {
			continue
		}
		if !found || len(m.MountPoint) >= len(best.MountPoint) {
			best, found = m, true
		}
	}
	return best, found
}

// Below returns the mount that p would live on if nothing were mounted at
// p itself: the one under a bind mount at p.
func (t Table) Below(p string) (Mount, bool) {
	best, found := Mount{}, false
	for _, m := range t {
		if m.MountPoint == p || !under(p, m.MountPoint) {
			continue
		}
		if !found || len(m.MountPoint) >= len(best.MountPoint) {
			best, found = m, true
		}
	}
	return best, found
}

// ByID returns the mount with the given id.
func (t Table) ByID(id int) (Mount, bool) {
	for _, m := range t {
		if m.ID == id {
			return m, true
		}
	}
	return Mount{}, false
}

func under(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// Unescape undoes the octal escapes (\040 for a space, \011 tab, \012
// newline, \134 backslash) the kernel writes in paths.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	// The first digit is at most 3: the value must fit in a byte.
	return s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7'
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
