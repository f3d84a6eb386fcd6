package relocate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// Signature is what probing found on a device. Blank is true only when
// every check agreed there is nothing at all: no filesystem, partition
// table, RAID or LVM label, swap, LUKS header, and no data in the first
// and last MiB. Anything else, including a probe that could not run, makes
// the device not blank, so that it is never formatted.
type Signature struct {
	Blank bool
	// FSType is the filesystem blkid found (ext4, xfs, ...), if any.
	FSType string
	// Found describes every signature or doubt, for messages.
	Found []string
}

func (s Signature) String() string {
	if s.Blank {
		return "blank"
	}
	return strings.Join(s.Found, "; ")
}

const probeTimeout = 30 * time.Second

// Probe inspects a device without writing to it, with three independent
// checks: blkid's low-level probe, wipefs in no-act mode, and our own read
// of well-known magic numbers and of the first and last MiB.
func Probe(ctx context.Context, dev string) Signature {
	var sig Signature
	doubt := func(format string, args ...any) { sig.Found = append(sig.Found, fmt.Sprintf(format, args...)) }

	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	out, code, err := runTool(ctx, "blkid", "-p", "-o", "export", dev)
	switch {
	case err != nil:
		doubt("blkid could not run: %v", err)
	case code == 2: // documented: nothing found
	case code == 0:
		for _, line := range strings.Split(out, "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "TYPE":
				sig.FSType = v
				doubt("blkid: filesystem %s", v)
			case "PTTYPE":
				doubt("blkid: partition table %s", v)
			}
		}
		if len(sig.Found) == 0 {
			doubt("blkid: signature %q", strings.TrimSpace(out))
		}
	default:
		doubt("blkid exited %d: %s", code, strings.TrimSpace(out))
	}
	out, code, err = runTool(ctx, "wipefs", "--no-act", "--noheadings", "--output", "TYPE,OFFSET", dev)
	switch {
	case err != nil:
		doubt("wipefs could not run: %v", err)
	case code != 0:
		doubt("wipefs exited %d: %s", code, strings.TrimSpace(out))
	case strings.TrimSpace(out) != "":
		doubt("wipefs: %s", strings.Join(strings.Fields(out), " "))
	}
	for _, m := range readMagic(dev) {
		doubt("%s", m)
	}
	sig.Blank = len(sig.Found) == 0
	return sig
}

// runTool runs a util-linux tool and returns its combined output and exit
// code; err is set only when it could not run at all.
func runTool(ctx context.Context, name string, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), -1, err
	}
	return string(out), 0, nil
}

// magic is a signature at a fixed offset from the start of the device.
type magic struct {
	name  string
	off   int64
	bytes string
}

var magics = []magic{
	{"ext2/3/4 superblock", 1080, "\x53\xef"},
	{"xfs superblock", 0, "XFSB"},
	{"btrfs superblock", 0x10040, "_BHRfS_M"},
	{"LUKS header", 0, "LUKS\xba\xbe"},
	{"LVM2 label", 512, "LABELONE"},
	{"GPT header", 512, "EFI PART"},
	{"MBR boot signature", 510, "\x55\xaa"},
	{"swap (4k pages)", 4096 - 10, "SWAPSPACE2"},
	{"md RAID 1.2 superblock", 4096, "\xfc\x4e\x2b\xa9"},
	{"md RAID 1.1 superblock", 0, "\xfc\x4e\x2b\xa9"},
}

const scanBytes = 1 << 20

// readMagic reads the first and last MiB and reports known magic numbers,
// and any non-zero byte at all: an erased instance store reads as zeros,
// so data there means it is not ours to format.
func readMagic(dev string) []string {
	f, err := os.Open(dev)
	if err != nil {
		return []string{fmt.Sprintf("cannot read %s: %v", dev, err)}
	}
	defer f.Close()
	var found []string
	head := make([]byte, scanBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return []string{fmt.Sprintf("cannot read %s: %v", dev, err)}
	}
	head = head[:n]
	for _, m := range magics {
		end := m.off + int64(len(m.bytes))
		if end <= int64(len(head)) && string(head[m.off:end]) == m.bytes {
			found = append(found, "magic: "+m.name)
		}
	}
	if len(found) == 0 && !allZero(head) {
		found = append(found, "data in the first MiB (no known signature)")
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return append(found, fmt.Sprintf("cannot size %s: %v", dev, err))
	}
	if size > int64(n) {
		tailOff := max(int64(n), size-scanBytes)
		tail := make([]byte, size-tailOff)
		if _, err := f.ReadAt(tail, tailOff); err != nil && !errors.Is(err, io.EOF) {
			return append(found, fmt.Sprintf("cannot read the end of %s: %v", dev, err))
		}
		if !allZero(tail) {
			found = append(found, "data in the last MiB (backup GPT, md 0.90/1.0 or other metadata)")
		}
	}
	return found
}

func allZero(b []byte) bool {
	return len(bytes.TrimLeft(b, "\x00")) == 0
}

// inUse reports why a disk must not be formatted even if blank: it has
// partitions, holders (device-mapper, md) or is mounted.
func inUse(root hostfs.Root, name string, mountedDevs map[string]string) []string {
	var why []string
	base := root.Path("/sys/block/" + name)
	if ents, err := os.ReadDir(filepath.Join(base, "holders")); err == nil && len(ents) > 0 {
		why = append(why, fmt.Sprintf("held by %s", ents[0].Name()))
	}
	if ents, err := os.ReadDir(base); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), name) {
				why = append(why, "has partition "+e.Name())
			}
		}
	}
	if mp, ok := mountedDevs[name]; ok {
		why = append(why, "mounted at "+mp)
	}
	return why
}
