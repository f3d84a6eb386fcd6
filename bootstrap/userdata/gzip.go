package userdata

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
)

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// budget is what is left of MaxDecompressed for one Extract: every gunzip
// draws on it, so neither one bomb nor many small ones get past it.
type budget struct{ left int }

func (b *budget) gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, gzipErr(err)
	}
	// One byte more than allowed tells "exactly at the limit" from "past it".
	out, err := io.ReadAll(io.LimitReader(zr, int64(b.left)+1))
	if len(out) > b.left {
		return nil, fmt.Errorf("gzip: expands to more than %d bytes", MaxDecompressed)
	}
	if err != nil {
		return nil, gzipErr(err)
	}
	b.left -= len(out)
	return out, nil
}

// gzipErr prefixes "gzip: " once: the package's own errors already carry it.
func gzipErr(err error) error {
	if strings.HasPrefix(err.Error(), "gzip: ") {
		return err
	}
	return fmt.Errorf("gzip: %w", err)
}
