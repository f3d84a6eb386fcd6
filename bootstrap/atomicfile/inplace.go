package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// writeInPlace rewrites a file that is a mount point of its own. It is not
// atomic: a reader can see a mix of old and new bytes for a moment, so the
// content goes out in one write, space is reserved first (a full disk then
// fails before the old content is touched), and the file is fsynced.
func writeInPlace(path string, data []byte, m meta, old fs.FileInfo, opt Options) (Outcome, error) {
	fail := func(err error) (Outcome, error) {
		return Unchanged, fmt.Errorf("write %s in place (it is a mount point): %w", path, err)
	}
	if opt.Check != nil {
		if err := checkCopy(path, data, opt.Check); err != nil {
			return fail(err)
		}
	}
	if err := unchangedSince(path, old, opt.Expect); err != nil {
		return Unchanged, err
	}
	f, err := openNoLinks(path, unix.O_WRONLY)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if len(data) > 0 {
		err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, int64(len(data)))
		if err != nil && !isUnsupported(err) {
			return fail(fmt.Errorf("reserve %d bytes: %w", len(data), err))
		}
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return fail(err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fail(err)
	}
	modeDrift, ownerDrift := drift(old, m)
	if err := setMeta(f, m, ownerDrift, modeDrift); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("fsync: %w", err))
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	return WrittenInPlace, nil
}

// checkCopy stages data in a temporary file beside path only for the check
// command to look at, then removes it.
func checkCopy(path string, data []byte, check func(string) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp := filepath.Join(dir, tempName(base))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("stage for check: %w", err)
	}
	defer os.Remove(tmp)
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("stage for check: %w", err)
	}
	if err := check(tmp); err != nil {
		return fmt.Errorf("check refused the new content: %w", err)
	}
	return nil
}

// Overwrite rewrites an existing file's content in place, in one write,
// without a temporary file. It is for the one case where the atomic way has
// no room: a full filesystem, where a record that shrinks still fits in the
// blocks the old one holds. A reader may see a mix for a moment.
func Overwrite(path string, data []byte) error {
	f, err := openNoLinks(path, unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("overwrite %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("overwrite %s: %w", path, err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("overwrite %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("overwrite %s: fsync: %w", path, err)
	}
	return f.Close()
}
