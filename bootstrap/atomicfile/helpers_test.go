package atomicfile

import (
	"os"
	"syscall"
	"testing"
)

// childEnv marks the re-run of a test that kills itself.
const childEnv = "ATOMICFILE_TEST_CHILD"

type fileID struct {
	ino    uint64
	mtime  syscall.Timespec
	ctime  syscall.Timespec
	mode   uint32
	uid    uint32
	gid    uint32
	exists bool
}

func idOf(t *testing.T, path string) fileID {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fileID{}
	}
	return fileID{ino: st.Ino, mtime: st.Mtim, ctime: st.Ctim, mode: st.Mode & 0o7777, uid: st.Uid, gid: st.Gid, exists: true}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if len(e.Name()) > 0 && e.Name()[0] == '.' {
			out = append(out, e.Name())
		}
	}
	return out
}
