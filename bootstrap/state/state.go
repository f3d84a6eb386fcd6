// Package state keeps what ec2boot remembers between runs under
// /var/lib/ec2boot: one JSON file per concern, each stamped with the
// instance-id that wrote it, so that a state directory baked into an AMI is
// recognised as another instance's and ignored.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
)

// Dir is the state directory on the host (under --root).
const Dir = "/var/lib/ec2boot"

// ErrReadOnly is returned by Save on a store opened for `plan`.
var ErrReadOnly = errors.New("state is read-only during plan")

// Store reads and writes state files for one instance.
type Store struct {
	dir        string
	instanceID string
	readOnly   bool
	// unwritable is why Save cannot work on this machine (a read-only
	// root): the run goes on with what it can read, and says so.
	unwritable error
}

type envelope struct {
	InstanceID string          `json:"instance_id"`
	SavedAt    time.Time       `json:"saved_at"`
	Data       json.RawMessage `json:"data"`
}

// Open returns a store in dir for the given instance. The directory is
// created 0700 unless readOnly.
//
// A directory on a read-only filesystem does not stop the run: the store
// reads what is there, Save still succeeds when nothing changed and fails
// (read-only file system) when it would write, so each step that needs to
// remember something fails on its own and the others go on.
func Open(dir, instanceID string, readOnly bool) (*Store, error) {
	s := &Store{dir: dir, instanceID: instanceID, readOnly: readOnly}
	if readOnly {
		return s, nil
	}
	if err := prepareDir(dir); err != nil {
		if !errors.Is(err, syscall.EROFS) {
			return nil, err
		}
		s.unwritable = fmt.Errorf("%w; nothing is remembered for the next run", err)
	}
	return s, nil
}

func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	// chmod fails on a read-only filesystem even when nothing changes.
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm() == 0o700 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	return nil
}

// Unwritable returns why Save cannot work here, or nil.
func (s *Store) Unwritable() error { return s.unwritable }

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// InstanceID is the instance the store belongs to.
func (s *Store) InstanceID() string { return s.instanceID }

// ReadOnly reports whether Save is refused.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Path returns the file that holds name.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name+".json") }

// Load reads name into v. It reports false, without error, when there is no
// such state or it was written by another instance (the caller starts
// fresh); foreign is then true for the latter.
func (s *Store) Load(name string, v any) (found, foreign bool, err error) {
	b, err := os.ReadFile(s.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("state %s: %w", s.Path(name), err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return false, false, fmt.Errorf("state %s: corrupt: %w", s.Path(name), err)
	}
	if env.InstanceID != s.instanceID {
		return false, true, nil
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return false, false, fmt.Errorf("state %s: corrupt: %w", s.Path(name), err)
	}
	return true, false, nil
}

// LoadAny reads name into v whatever instance wrote it, returning that
// instance-id; for `status` and for the last-known-facts fallback.
func (s *Store) LoadAny(name string, v any) (instanceID string, savedAt time.Time, found bool, err error) {
	b, err := os.ReadFile(s.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("state %s: %w", s.Path(name), err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return "", time.Time{}, false, fmt.Errorf("state %s: corrupt: %w", s.Path(name), err)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return "", time.Time{}, false, fmt.Errorf("state %s: corrupt: %w", s.Path(name), err)
	}
	return env.InstanceID, env.SavedAt, true, nil
}

// Save writes v as name (0600), atomically, and only when it changed, so a
// no-change run writes nothing.
func (s *Store) Save(name string, v any, now time.Time) error {
	if s.readOnly {
		return ErrReadOnly
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state %s: %w", name, err)
	}
	// Keep the old timestamp when the data is the same, so the file's bytes
	// are the same too; unless it lies in the future (a clock that jumped
	// back, an image baked on a skewed host), which is replaced by now.
	var old envelope
	if b, err := os.ReadFile(s.Path(name)); err == nil && json.Unmarshal(b, &old) == nil &&
		old.InstanceID == s.instanceID && jsonEqual(old.Data, data) && !old.SavedAt.After(now) {
		now = old.SavedAt
	}
	out, err := json.MarshalIndent(envelope{InstanceID: s.instanceID, SavedAt: now.UTC(), Data: data}, "", "  ")
	if err != nil {
		return fmt.Errorf("state %s: %w", name, err)
	}
	out = append(out, '\n')
	opt := atomicfile.Defaults()
	opt.Mode = 0o600
	if _, err := atomicfile.Write(s.Path(name), out, opt); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Remove deletes the state called name.
func (s *Store) Remove(name string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := os.Remove(s.Path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
