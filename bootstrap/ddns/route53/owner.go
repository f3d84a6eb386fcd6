package route53

import (
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/ddns/ownerrecord"
)

// Owner is who registered a name, as its ownership TXT says (the format
// is ownerrecord's); the record lives at OwnerName(name).
type Owner = ownerrecord.Owner

// OwnerName is the name of name's ownership TXT (absolute, lower case).
func OwnerName(name string) string { return ownerrecord.Label + fqdn(name) }

// ownerValue is o's TXT value as Route 53 stores it: one quoted string.
func ownerValue(o Owner) string { return `"` + o.Value() + `"` }

// ParseOwner reads a TXT value as Route 53 returns it (quoted); ok is
// false for a value that is not ec2boot's or lacks a field.
func ParseOwner(v string) (Owner, bool) {
	return ownerrecord.Parse(strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`))
}

// fqdn is name in Route 53's form: lower case with a trailing dot.
func fqdn(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }
