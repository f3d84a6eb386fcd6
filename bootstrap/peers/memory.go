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
	// Discovered is, per discovered role, its last members and whether
	// its source is failing or denied.
	Discovered map[string]discovered `json:"discovered,omitempty"`
}

type discovered struct {
	Members []Member `json:"members"`
	// FailingSince is set while the source does not answer.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// Denied is the source's denial, for the role's configuration Key:
	// it is not asked again until that changes or run --force.
	Denied string `json:"denied,omitempty"`
	Key    string `json:"key,omitempty"`
}

type known struct {
	Addrs []netip.Addr `json:"addrs"`
	// FailingSince is set while the name does not resolve.
	FailingSince *time.Time `json:"failing_since,omitempty"`
}

func loadMemory(store *state.Store) (memory, error) {
	m := memory{Hosts: map[string]known{}, Roles: map[string]int{}, Discovered: map[string]discovered{}}
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
	if m.Discovered == nil {
		m.Discovered = map[string]discovered{}
	}
	return m, nil
}
