package awsapi

import (
	"context"
	"net/netip"
)

// Backend is the DNS server a successful change batch feeds, so that
// lookups see what the API holds: internal/testpeer/authdns.Server and
// internal/testpeer/bind.Server both implement it. Update makes name
// carry exactly addrs (empty deletes it).
type Backend interface {
	Update(ctx context.Context, name string, addrs []netip.Addr) error
}
