package atomicfile

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// meta is the mode and owner a file should end up with.
type meta struct {
	mode     fs.FileMode
	uid, gid int // -1: leave as created
}

func wanted(st fs.FileInfo, opt Options) meta {
	m := meta{mode: opt.Mode.Perm(), uid: opt.UID, gid: opt.GID}
	if opt.Mode == 0 {
		m.mode = 0o644
		if st != nil {
			m.mode = st.Mode().Perm()
		}
	}
	if st != nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			if m.uid < 0 {
				m.uid = int(sys.Uid)
			}
			if m.gid < 0 {
				m.gid = int(sys.Gid)
			}
		}
	}
	return m
}

// drift says which metadata differs between st and m.
func drift(st fs.FileInfo, m meta) (mode, owner bool) {
	mode = st.Mode().Perm() != m.mode
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		owner = m.uid >= 0 && int(sys.Uid) != m.uid || m.gid >= 0 && int(sys.Gid) != m.gid
	}
	return mode, owner
}

func sameContent(path string, st fs.FileInfo, data []byte) (bool, error) {
	if st.Size() != int64(len(data)) {
		return false, nil
	}
	old, err := readNoLinks(path)
	if err != nil {
		return false, err
	}
	return bytes.Equal(old, data), nil
}

// fixMetadata repairs mode and owner on the existing inode: content, inode
// and mtime stay as they are.
func fixMetadata(path string, st fs.FileInfo, m meta) (Outcome, error) {
	modeDrift, ownerDrift := drift(st, m)
	if !modeDrift && !ownerDrift {
		return Unchanged, nil
	}
	f, err := openNoLinks(path, unix.O_RDONLY)
	if err != nil {
		return Unchanged, fmt.Errorf("repair metadata of %s: %w", path, err)
	}
	defer f.Close()
	if err := setMeta(f, m, ownerDrift, modeDrift); err != nil {
		return Unchanged, fmt.Errorf("repair metadata of %s: %w", path, err)
	}
	return MetadataFixed, nil
}

// setMeta applies owner before mode: chown clears set-id bits.
func setMeta(f *os.File, m meta, owner, mode bool) error {
	if owner && (m.uid >= 0 || m.gid >= 0) {
		if err := f.Chown(m.uid, m.gid); err != nil {
			return fmt.Errorf("chown %d:%d: %w", m.uid, m.gid, err)
		}
	}
	if mode {
		if err := f.Chmod(m.mode); err != nil {
			return fmt.Errorf("chmod %04o: %w", m.mode, err)
		}
	}
	return nil
}
