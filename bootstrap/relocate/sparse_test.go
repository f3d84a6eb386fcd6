package relocate

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

// tib is the apparent size of a lastlog after a login by a high UID: the
// file is indexed by UID, so it is all hole but for that one record.
const tib = int64(1) << 40

// sparseFile makes a file of size apparent bytes holding data at off.
func sparseFile(t testing.TB, p string, size, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o664)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

// allocated is what a file occupies on disk.
func allocated(t testing.TB, p string) (size, bytes int64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Size, st.Blocks * 512
}

func TestContentSum(t *testing.T) {
	dir := t.TempDir()
	record := []byte("\x01\x02\x03\x04pts/")
	p := func(n string) string { return filepath.Join(dir, n) }
	sparseFile(t, p("sparse"), 1<<30, 1<<29, record)
	if size, alloc := allocated(t, p("sparse")); size != 1<<30 || alloc > 64<<10 {
		t.Fatalf("the test filesystem does not keep holes (size %d, allocated %d)", size, alloc)
	}
	// The same content with the hole around the record written as zeros.
	dense := make([]byte, 1<<20)
	copy(dense[1<<19:], record)
	sparseFile(t, p("zeros"), 1<<30, 1<<29-1<<19, dense)
	sparseFile(t, p("other-byte"), 1<<30, 1<<29, []byte("\x01\x02\x03\x05pts/"))
	sparseFile(t, p("shifted"), 1<<30, 1<<29+512, record)
	sparseFile(t, p("longer"), 1<<30+512, 1<<29, record)
	sparseFile(t, p("empty"), 0, 0, nil)
	sparseFile(t, p("all-hole"), 1<<20, 0, nil)

	sum := func(n string) string {
		t.Helper()
		s, err := fileSum(p(n))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if sum("sparse") != sum("zeros") {
		t.Error("a hole and written zeros must sum alike: they are the same content")
	}
	for _, n := range []string{"other-byte", "shifted", "longer", "empty", "all-hole"} {
		if sum(n) == sum("sparse") {
			t.Errorf("%s sums like the original", n)
		}
	}
	if sum("empty") == sum("all-hole") {
		t.Error("sizes not in the sum")
	}
	// A file that is data throughout sums as the plain read would see it.
	plain := bytes.Repeat([]byte("log line\n"), 100000)
	must(t, os.WriteFile(p("plain"), plain, 0o644))
	must(t, os.WriteFile(p("plain2"), plain, 0o644))
	plain[len(plain)-1] = 'X'
	must(t, os.WriteFile(p("plain3"), plain, 0o644))
	if sum("plain") != sum("plain2") || sum("plain") == sum("plain3") {
		t.Error("dense files: equal content must sum alike, a changed last byte must not")
	}
}

// TestRelocateTerabyteLastlog: /var/log/lastlog of 1 TiB apparent size
// holding one 8-byte record at its end (a login by UID ~2^34/292) is
// relocated, verified and stays sparse on the instance store.
func TestRelocateTerabyteLastlog(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	root, _ := tmpfsScenario(t, "64m")
	lastlog := filepath.Join(root, "var/log/lastlog")
	record := []byte("\x5f\x3a\x10\x67tty1")
	sparseFile(t, lastlog, tib, tib-int64(len(record)), record)
	if size, alloc := allocated(t, lastlog); size != tib || alloc > 64<<10 {
		t.Fatalf("the root's filesystem does not keep holes (size %d, allocated %d)", size, alloc)
	}
	before := manifestOf(t, filepath.Join(root, "var/log"))

	res, _, err := runStep(t, New(), newEnv(t, root))
	if err != nil {
		t.Fatalf("apply: %v (%+v)", err, res)
	}
	if d := before.Diff(manifestOf(t, filepath.Join(root, "var/log"))); len(d) > 0 {
		t.Errorf("relocated /var/log differs:\n%q", d)
	}
	copied := filepath.Join(root, "mnt/ec2boot/var/log/lastlog")
	size, alloc := allocated(t, copied)
	if size != tib || alloc > 64<<10 {
		t.Errorf("copy on the instance store: size %d, allocated %d bytes; want %d with holes", size, alloc, tib)
	}
	f, err := os.Open(copied)
	must(t, err)
	defer f.Close()
	got := make([]byte, len(record))
	if _, err := f.ReadAt(got, tib-int64(len(record))); err != nil || !bytes.Equal(got, record) {
		t.Errorf("record in the copy = %q, %v; want %q", got, err, record)
	}
	if mounts := mountsAt(t, filepath.Join(root, "var/log")); len(mounts) != 1 {
		t.Errorf("/var/log mounts: %v", mounts)
	}
}

// BenchmarkContentSumTerabyteLastlog: verifying the sparse lastlog costs
// its data, not its apparent size.
func BenchmarkContentSumTerabyteLastlog(b *testing.B) {
	p := filepath.Join(b.TempDir(), "lastlog")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(tib); err != nil {
		b.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("12345678"), tib-8); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for range b.N {
		if _, err := fileSum(p); err != nil {
			b.Fatal(err)
		}
	}
}

// A small file is summed with a buffer its size, not the largest one: a
// relocated /var/log is mostly small files, and each is summed twice.
func TestContentSumBufferFitsTheFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name     string
		size     int64
		off      int64
		data     []byte
		maxAlloc uint64
	}{
		{"a 9 KiB log", 9 << 10, 0, bytes.Repeat([]byte("log line\n"), 1024), 32 << 10},
		{"a sparse lastlog of 1 TiB holding 8 bytes", tib, tib - 8, []byte("12345678"), 32 << 10},
		{"a 3 MiB log", 3 << 20, 0, bytes.Repeat([]byte("x"), 3<<20), maxBuf + 32<<10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "f")
			sparseFile(t, p, tt.size, tt.off, tt.data)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := fileSum(p); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > tt.maxAlloc {
				t.Errorf("summing allocated %d bytes, want at most %d", got, tt.maxAlloc)
			}
		})
	}
}

func TestBufFor(t *testing.T) {
	for _, tt := range []struct {
		from, to int64
		want     int
	}{
		{0, 1, sector},
		{0, 9 << 10, 9 << 10},
		{0, 9<<10 + 1, 9<<10 + sector},
		{tib - 8, tib, sector},
		{700, 1300, 2 * sector}, // starts at 512
		{0, tib, maxBuf},
	} {
		if got := bufFor(tt.from, tt.to); got != tt.want || got%sector != 0 {
			t.Errorf("bufFor(%d, %d) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}
