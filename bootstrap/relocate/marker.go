package relocate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ec2boot/ec2boot/bootstrap/atomicfile"
)

// markerName is the file on the instance store that says what ec2boot put
// there. It survives a reboot and vanishes with a stop/start, which is
// exactly the difference relocation must tell apart.
const markerName = ".ec2boot-instance"

// The states of one relocated path in the marker. Only "bound" is trusted on
// the next run: a "copied" path was interrupted before its bind mount and is
// copied again.
const (
	stateCopied = "copied"
	stateBound  = "bound"
)

// Marker is the JSON in <mount point>/ec2boot/.ec2boot-instance.
type Marker struct {
	InstanceID string                 `json:"instance_id"`
	Paths      map[string]MarkerEntry `json:"paths"`
}

// MarkerEntry is one relocated path.
type MarkerEntry struct {
	State string `json:"state"`
	// Seed is how the copy was made: "copy" (from the original) or
	// "skeleton" (directories only, after a stop/start).
	Seed      string `json:"seed"`
	Reclaimed bool   `json:"reclaimed,omitempty"`
}

func markerPath(base string) string { return filepath.Join(base, markerName) }

// readMarker returns nil without error when there is no marker (a blank or
// foreign instance store, or one we never finished setting up).
func readMarker(base string) (*Marker, error) {
	b, err := os.ReadFile(markerPath(base))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("marker %s: %w", markerPath(base), err)
	}
	var m Marker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("marker %s: corrupt: %w", markerPath(base), err)
	}
	if m.Paths == nil {
		m.Paths = map[string]MarkerEntry{}
	}
	return &m, nil
}

func writeMarker(base string, m *Marker) error {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("marker directory %s: %w", base, err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	opt := atomicfile.Defaults()
	opt.Mode = 0o644
	if _, err := atomicfile.Write(markerPath(base), append(b, '\n'), opt); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	return nil
}
