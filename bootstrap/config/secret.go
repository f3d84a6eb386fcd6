package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// MaxPasswordFile bounds how much of a password_file is read: a password is
// one short line, and anything larger is not the file that was meant.
const MaxPasswordFile = 4096

// LoadSecret returns the inline secret, or the first line of file when the
// inline one is empty. hostPath is where file is on this machine (under
// --root); file is what messages name. Warnings say what is unsafe about a
// file that was still used.
//
// The file is opened without following a final symbolic link and without
// blocking (a FIFO planted there would hang the run until every budget is
// gone), must be a regular file, is read up to MaxPasswordFile bytes, and
// never past ctx's deadline.
func LoadSecret(ctx context.Context, inline Secret, file, hostPath string) (Secret, []string, error) {
	if file == "" {
		return inline, nil, nil
	}
	type result struct {
		b        []byte
		warnings []string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		b, w, err := readSecretFile(hostPath)
		done <- result{b, w, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return Secret{}, nil, fmt.Errorf("password_file %s: not read in time: %w", file, ctx.Err())
	}
	if r.err != nil {
		return Secret{}, nil, fmt.Errorf("password_file %s: %w", file, r.err)
	}
	for i, w := range r.warnings {
		r.warnings[i] = fmt.Sprintf("password_file %s: %s", file, w)
	}
	line, _, _ := bytes.Cut(r.b, []byte("\n"))
	v := string(bytes.TrimRight(line, "\r"))
	if v == "" {
		return Secret{}, r.warnings, fmt.Errorf("password_file %s: empty", file)
	}
	return Secret{value: v}, r.warnings, nil
}

func readSecretFile(path string) ([]byte, []string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, errors.New("is a symbolic link; give the file itself")
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the host path under --root is noise
		}
		return nil, nil, err
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, nil, fmt.Errorf("not a regular file (%s)", fileType(st.Mode))
	}
	if st.Size > MaxPasswordFile {
		return nil, nil, fmt.Errorf("%d bytes: larger than %d, not a password file", st.Size, MaxPasswordFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPasswordFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > MaxPasswordFile {
		return nil, nil, fmt.Errorf("larger than %d bytes, not a password file", MaxPasswordFile)
	}
	var warnings []string
	if perm := st.Mode & 0o777; perm&0o077 != 0 {
		warnings = append(warnings, fmt.Sprintf("mode %04o lets other users read the password; chmod 0600", perm))
	}
	if st.Uid != 0 {
		warnings = append(warnings, fmt.Sprintf("owned by uid %d, not root: that user can change the password; chown root", st.Uid))
	}
	return b, warnings, nil
}

func fileType(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFIFO:
		return "a FIFO"
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFSOCK:
		return "a socket"
	case syscall.S_IFCHR:
		return "a character device"
	case syscall.S_IFBLK:
		return "a block device"
	}
	return "not a plain file"
}
