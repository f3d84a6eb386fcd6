package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// MaxSecretFile bounds what ReadSecretFile reads: a password or a TSIG key
// statement is a few hundred bytes, and a bigger file is a wrong path.
const MaxSecretFile = 64 << 10

// ReadSecretFile reads an open secret file (key_file, for instance),
// opened by the caller without following links. It refuses anything but a
// regular file and files over MaxSecretFile, and warns when the file is
// readable by group or others or is not owned by root: anyone who can read
// it can sign updates.
func ReadSecretFile(f *os.File) (data []byte, warnings []string, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	if st.Size() > MaxSecretFile {
		return nil, nil, fmt.Errorf("%d bytes is too large for a secret file (at most %d)", st.Size(), MaxSecretFile)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		warnings = append(warnings, fmt.Sprintf("mode %04o lets other users read the secret; chmod 600 it", perm))
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
		warnings = append(warnings, fmt.Sprintf("owned by uid %d, not root: that user can change the secret", sys.Uid))
	}
	data, err = io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > MaxSecretFile {
		return nil, nil, errors.New("grew past the size limit while being read")
	}
	return data, warnings, nil
}
