package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// replace writes data to a new temporary file next to path, gives it its
// final metadata and renames it over path.
func replace(path string, data []byte, old fs.FileInfo, m meta, opt Options) (err error) {
	dirName, base := filepath.Split(path)
	if dirName == "" {
		dirName = "."
	}
	dir, err := openDir(dirName)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer dir.Close()
	tmpBase := tempName(base)
	tmp := filepath.Join(dirName, tmpBase)
	fd, err := unix.Openat(int(dir.Fd()), tmpBase, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: create temporary file: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	renamed := false
	defer func() {
		f.Close()
		if !renamed {
			_ = unix.Unlinkat(int(dir.Fd()), tmpBase, 0)
		}
	}()
	// Metadata first, so the file is never visible with the wrong owner,
	// label or mode, not even for the moment after the rename.
	if err := setMeta(f, m, true, false); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if old != nil {
		if err := copyXattrs(path, f); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := setMeta(f, m, false, true); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if opt.Check != nil {
		if err := opt.Check(tmp); err != nil {
			return fmt.Errorf("write %s: check refused the new content: %w", path, err)
		}
	}
	if opt.beforeRename != nil {
		opt.beforeRename(tmp)
	}
	if err := unchangedSince(path, old, opt.Expect); err != nil {
		return err
	}
	if err := unix.Renameat(int(dir.Fd()), tmpBase, int(dir.Fd()), base); err != nil {
		return fmt.Errorf("write %s: rename: %w", path, err)
	}
	renamed = true
	return syncDir(dir)
}

// unchangedSince re-checks, just before the rename, that nobody replaced or
// edited the file since we (and the caller) looked at it.
func unchangedSince(path string, old fs.FileInfo, expect *Snapshot) error {
	st, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err != nil {
		st = nil
	}
	ours := &Snapshot{}
	if old != nil {
		ours = snapshotOf(old)
	}
	if !ours.matches(st) || expect != nil && !expect.matches(st) {
		return fmt.Errorf("write %s: %w", path, ErrChangedUnderneath)
	}
	return nil
}

func tempName(base string) string {
	b := make([]byte, tempRandBytes)
	_, _ = rand.Read(b)
	return "." + base + TempMarker + hex.EncodeToString(b)
}

const tempRandBytes = 6
