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
	b, warnings, err := ReadSecretFile(ctx, "password_file", "password", file, hostPath)
	if err != nil {
		return Secret{}, warnings, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	v := string(bytes.TrimRight(line, "\r"))
	if v == "" {
		return Secret{}, warnings, fmt.Errorf("password_file %s: empty", file)
	}
	return Secret{value: v}, warnings, nil
}

// ReadSecretFile reads a secret file (a password_file, an RFC 2136
// key_file) with LoadSecret's checks: key is the setting messages name
// ("key_file"), noun what the file holds ("TSIG key"). Errors and warnings
// are one line naming key and file.
func ReadSecretFile(ctx context.Context, key, noun, file, hostPath string) ([]byte, []string, error) {
	type result struct {
		b        []byte
		warnings []string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		b, w, err := readSecretFile(hostPath, noun)
		done <- result{b, w, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("%s %s: not read in time: %w", key, file, ctx.Err())
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", key, file, r.err)
	}
	for i, w := range r.warnings {
		r.warnings[i] = fmt.Sprintf("%s %s: %s", key, file, w)
	}
	return r.b, r.warnings, nil
}

func readSecretFile(path, noun string) ([]byte, []string, error) {
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
		return nil, nil, fmt.Errorf("%d bytes: larger than %d, not a %s file", st.Size, MaxPasswordFile, noun)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPasswordFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > MaxPasswordFile {
		return nil, nil, fmt.Errorf("larger than %d bytes, not a %s file", MaxPasswordFile, noun)
	}
	var warnings []string
	if perm := st.Mode & 0o777; perm&0o077 != 0 {
		warnings = append(warnings, fmt.Sprintf("mode %04o lets other users read the %s; chmod 0600", perm, noun))
	}
	if st.Uid != 0 {
		warnings = append(warnings, fmt.Sprintf("owned by uid %d, not root: that user can change the %s; chown root", st.Uid, noun))
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
