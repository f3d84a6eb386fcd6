package peers

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// memory is what the state file keeps between runs. It changes only when a
// peer's addresses change or it starts or stops failing, so a run with
// nothing new writes nothing.
type memory struct {
	Hosts map[string]known `json:"hosts"`
	// Roles is each role's size at the last write, for the shrink check.
	Roles map[string]int `json:"roles"`
}

type known struct {
	Addrs []netip.Addr `json:"addrs"`
	// FailingSince is set while the name does not resolve.
	FailingSince *time.Time `json:"failing_since,omitempty"`
}

func loadMemory(store *state.Store) (memory, error) {
	m := memory{Hosts: map[string]known{}, Roles: map[string]int{}}
	if store == nil {
		return m, nil
	}
	if _, _, err := store.Load(StateName, &m); err != nil {
		return m, fmt.Errorf("peers: %w", err)
	}
	if m.Hosts == nil {
		m.Hosts = map[string]known{}
	}
	if m.Roles == nil {
		m.Roles = map[string]int{}
	}
	return m, nil
}
