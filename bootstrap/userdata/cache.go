package userdata

import (
	"fmt"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// CacheName is the state file (under the state directory) that keeps the
// last good user-data.
const CacheName = "user-data"

// SaveCache keeps raw user-data, exactly as the metadata service returned
// it, as the last good one of the store's instance; Extract reads it back
// the same way. Call it only once the configuration built from it loaded
// without errors. The state store writes it 0600 (as base64 in its JSON
// envelope), stamped with the instance-id, and only when it changed.
func SaveCache(s *state.Store, raw []byte, now time.Time) error {
	if raw == nil {
		raw = []byte{} // "no user-data" is a fact worth keeping too
	}
	if err := s.Save(CacheName, raw, now); err != nil {
		return fmt.Errorf("caching user-data: %w", err)
	}
	return nil
}

// LoadCache returns the last good user-data of the store's instance, for
// runs that cannot reach the metadata service (the early relocation unit
// starts before the network). found is false when there is none; foreign is
// set when the cache belongs to another instance (a state directory baked
// into an image) and was ignored.
func LoadCache(s *state.Store) (raw []byte, found, foreign bool, err error) {
	found, foreign, err = s.Load(CacheName, &raw)
	if err != nil {
		return nil, false, false, fmt.Errorf("cached user-data: %w", err)
	}
	if !found {
		return nil, false, foreign, nil
	}
	if len(raw) > MaxSize {
		return nil, false, false, fmt.Errorf("cached user-data %s: %d bytes: %w", s.Path(CacheName), len(raw), ErrTooLarge)
	}
	return raw, true, false, nil
}
