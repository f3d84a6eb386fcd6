package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Snapshot identifies one version of a file on disk.
type Snapshot struct {
	Exists bool
	Ino    uint64
	Size   int64
	MtimeN int64
}

// Read returns a file's content with a snapshot for Options.Expect. A missing
// file gives nil data and a snapshot with Exists false.
//
// Like Write, Read follows no link: path is a destination already resolved
// (hostfs.Root.Dest), and a link found now was planted since; reading
// through it could show another file's content in `plan`'s diff.
func Read(path string) ([]byte, *Snapshot, error) {
	f, err := openNoLinks(path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Snapshot{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("read %s: not a regular file (%s)", path, st.Mode().Type())
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return buf.Bytes(), snapshotOf(st), nil
}

func snapshotOf(st fs.FileInfo) *Snapshot {
	s := &Snapshot{Exists: true, Size: st.Size(), MtimeN: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.Ino = sys.Ino
	}
	return s
}

func (s *Snapshot) matches(st fs.FileInfo) bool {
	if st == nil {
		return !s.Exists
	}
	return s.Exists && *snapshotOf(st) == *s
}

// Preview is what Write would do, worked out without changing anything;
// `plan` shows it.
type Preview struct {
	Outcome Outcome
	Exists  bool
	Old     []byte // current content (nil when missing)
	OldMode fs.FileMode
	NewMode fs.FileMode
	OldUID  int
	OldGID  int
	NewUID  int
	NewGID  int
	// InPlace is set when the target is a mount point and would be
	// rewritten in place.
	InPlace bool
}

// Inspect reports what Write(path, data, opt) would do. It only reads.
func Inspect(path string, data []byte, opt Options) (Preview, error) {
	path, cur, err := resolve(path)
	if err != nil {
		return Preview{}, err
	}
	m := wanted(cur.info, opt)
	p := Preview{NewMode: m.mode, NewUID: m.uid, NewGID: m.gid, OldUID: -1, OldGID: -1}
	if cur.info == nil {
		p.Outcome = Written
		return p, nil
	}
	p.Exists = true
	p.OldMode = cur.info.Mode().Perm()
	if sys, ok := cur.info.Sys().(*syscall.Stat_t); ok {
		p.OldUID, p.OldGID = int(sys.Uid), int(sys.Gid)
	}
	if p.Old, err = readNoLinks(path); err != nil {
		return Preview{}, fmt.Errorf("read %s: %w", path, err)
	}
	modeDrift, ownerDrift := drift(cur.info, m)
	switch {
	case !bytes.Equal(p.Old, data) && cur.mountPoint:
		p.Outcome, p.InPlace = WrittenInPlace, true
	case !bytes.Equal(p.Old, data):
		p.Outcome = Written
	case modeDrift || ownerDrift:
		p.Outcome = MetadataFixed
	}
	return p, nil
}

func readNoLinks(path string) ([]byte, error) {
	f, err := openNoLinks(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}
