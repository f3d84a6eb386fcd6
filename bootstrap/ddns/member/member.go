// Package member is the ownership record of one member of a DNS role
// record: which instance published which address under the role's name,
// and when it last said it was alive. The RFC 2136 and Route 53 providers
// write it; the publish step decides with it.
package member

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Prefix is the label the ownership TXT records of a role record live
// under: _ec2boot-members.<record>. It is a name of its own so that it never
// meets the role record's addresses (a CNAME there would be refused), nor
// the single-owner TXT (_ec2boot.<name>) of a name registered by the ddns
// step.
const Prefix = "_ec2boot-members."

// TXTName is where the ownership records of record live.
func TXTName(record string) string {
	return Prefix + strings.TrimSuffix(strings.ToLower(record), ".") + "."
}

// Member is one member's ownership record.
type Member struct {
	Role       string
	InstanceID string
	Addr       netip.Addr
	Refreshed  time.Time
}

// Value is the TXT string:
//
//	ec2boot role=web instance=i-0abc addr=10.0.3.1 refreshed=2026-12-07T04:00:00Z
func (m Member) Value() string {
	return fmt.Sprintf("ec2boot role=%s instance=%s addr=%s refreshed=%s",
		m.Role, m.InstanceID, m.Addr, m.Refreshed.UTC().Format(time.RFC3339))
}

// Parse reads a TXT value; ok is false for a value that is not a complete
// ec2boot member record (someone else's TXT, which is left alone).
func Parse(v string) (m Member, ok bool) {
	f := strings.Fields(v)
	if len(f) == 0 || f[0] != "ec2boot" {
		return Member{}, false
	}
	kv := map[string]string{}
	for _, x := range f[1:] {
		k, val, found := strings.Cut(x, "=")
		if !found {
			return Member{}, false
		}
		kv[k] = val
	}
	a, err := netip.ParseAddr(kv["addr"])
	if err != nil {
		return Member{}, false
	}
	t, err := time.Parse(time.RFC3339, kv["refreshed"])
	if err != nil || t.Nanosecond() != 0 || kv["instance"] == "" || kv["role"] == "" {
		return Member{}, false
	}
	return Member{Role: kv["role"], InstanceID: kv["instance"], Addr: a.Unmap(), Refreshed: t}, true
}

// Stale reports whether m has not been refreshed for age at now.
func (m Member) Stale(now time.Time, age time.Duration) bool {
	return now.Sub(m.Refreshed) > age
}
