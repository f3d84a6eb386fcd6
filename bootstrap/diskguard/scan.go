package diskguard

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// largest sums allocated bytes per directory (down to two levels below top)
// within one filesystem, stopping at the limit, and returns the n largest.
// Sizes count everything below a directory, so a parent is at least as
// large as its children; only the deepest large ones are worth naming, but
// both levels are listed and the reader sees the nesting in the paths.
func largest(ctx context.Context, top string, rel func(string) string, lim Limit, n int) ([]DirSize, bool) {
	var topSt unix.Stat_t
	if err := unix.Lstat(top, &topSt); err != nil {
		return nil, false
	}
	deadline := time.Now().Add(lim.Time)
	sizes := map[string]int64{}
	entries := 0
	partial := false
	var walk func(dir string, depth int) int64
	walk = func(dir string, depth int) int64 {
		f, err := os.Open(dir)
		if err != nil {
			return 0
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return 0
		}
		var sum int64
		for _, name := range names {
			if partial {
				break
			}
			entries++
			if entries > lim.Entries || ctx.Err() != nil || (entries%1024 == 0 && time.Now().After(deadline)) {
				partial = true
				break
			}
			p := filepath.Join(dir, name)
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil || st.Dev != topSt.Dev {
				continue
			}
			sum += st.Blocks * 512
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				sub := walk(p, depth+1)
				sum += sub
				// A directory whose scan was cut short would be
				// reported too small: leave it out.
				if depth < 2 && !partial {
					sizes[p] = sub + st.Blocks*512
				}
			}
		}
		return sum
	}
	walk(top, 0)
	out := make([]DirSize, 0, len(sizes))
	for p, b := range sizes {
		out = append(out, DirSize{Path: rel(p), Bytes: b})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Path < out[j].Path
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, partial
}
