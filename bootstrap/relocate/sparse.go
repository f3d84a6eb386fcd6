package relocate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sector is the unit of the content sum. Every hole boundary that
// SEEK_DATA and SEEK_HOLE report is a multiple of the filesystem's block
// size, itself a multiple of 512, so each sector lies wholly in a hole or
// wholly in data, whichever filesystem the file is on.
const sector = 512

var zeroSector [sector]byte

// contentSum is the SHA-256 of a file's content that reads only its data
// extents: a sparse /var/log/lastlog of 1 TiB holding a few bytes costs a
// few reads, not a terabyte of zeros. The sum covers the size and every
// sector that is not all zeros, with its position, so a hole and the same
// length of written zeros are the same content: the copy may place its
// extents differently (another filesystem, another block size) and still
// verify, while any byte that differs, anywhere, changes the sum.
func contentSum(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	size := fi.Size()
	s := &sectorHash{h: sha256.New(), next: -1}
	binary.Write(s.h, binary.BigEndian, size)
	var buf []byte // grown to the largest extent read so far, up to maxBuf
	fd := int(f.Fd())
	for off := int64(0); off < size; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		hole := size
		switch {
		case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP):
			data = off // no hole support: read everything
		case err != nil:
			return "", err
		default:
			if h, err := unix.Seek(fd, data, unix.SEEK_HOLE); err == nil {
				hole = min(h, size)
			}
		}
		if n := bufFor(data, hole); len(buf) < n {
			buf = make([]byte, n)
		}
		if err := s.readRange(f, buf, data, hole); err != nil {
			return "", err
		}
		off = hole
	}
	return hex.EncodeToString(s.h.Sum(nil)), nil
}

// maxBuf bounds contentSum's read buffer; a multiple of sector.
const maxBuf = 1 << 20

// bufFor is the read buffer for the extent from..to: the whole extent in
// sectors (readRange starts it on a sector boundary), up to maxBuf. A
// relocated /var/log is mostly small files: a buffer of maxBuf for each
// of them made the allocations, and the heap the collector let grow,
// the largest part of a cold run's CPU time and peak RSS.
func bufFor(from, to int64) int {
	n := to - (from - from%sector)
	n = (n + sector - 1) / sector * sector
	return int(max(sector, min(maxBuf, n)))
}

// sectorHash feeds the non-zero sectors of a file to h. Each sector is
// framed: 0 when it continues the previous one, 1 and its index when it
// starts a run, then its bytes. The framing is fixed-length, so two
// different contents cannot give the same stream.
type sectorHash struct {
	h    hash.Hash
	next int64 // index of the sector that would continue the current run
}

func (s *sectorHash) readRange(f *os.File, buf []byte, from, to int64) error {
	// Start on a sector boundary: data extents do, but a filesystem
	// without holes reports none.
	from -= from % sector
	for from < to {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-from)], from)
		s.sectors(buf[:n], from)
		from += int64(n)
		if errors.Is(err, io.EOF) {
			return nil // the file shrank while we read: the size differs anyway
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *sectorHash) sectors(b []byte, off int64) {
	var hdr [9]byte
	for len(b) > 0 {
		n := min(len(b), sector)
		sec := b[:n]
		idx := off / sector
		if !bytes.Equal(sec, zeroSector[:n]) {
			if idx == s.next {
				s.h.Write(hdr[:1])
			} else {
				hdr[0] = 1
				binary.BigEndian.PutUint64(hdr[1:], uint64(idx))
				s.h.Write(hdr[:])
				hdr[0] = 0
			}
			s.h.Write(sec)
			s.next = idx + 1
		}
		b, off = b[n:], off+int64(n)
	}
}

// fileSum opens p without following a link and returns its contentSum.
func fileSum(p string) (string, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME, 0)
	if err != nil {
		f, err = os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	}
	if err != nil {
		return "", fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	sum, err := contentSum(f)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return sum, nil
}
