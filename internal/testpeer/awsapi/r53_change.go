package awsapi

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Route 53's per-request limits: ResourceRecord elements and characters
// summed over all values; an UPSERT counts twice toward both.
const (
	maxBatchRecords = 1000
	maxBatchChars   = 32000
)

var knownTypes = []string{"A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"}

// batchError is a refused batch: InvalidInput (one message, the request
// is not well formed) or InvalidChangeBatch (one message per failed
// change).
type batchError struct {
	input    string
	messages []string
}

type pendingChange struct {
	action string
	set    RecordSet
}

// checkBatch turns the request into changes, checking what InvalidInput
// covers: shape, types, TTLs, routing fields, limits.
func checkBatch(z *zone, req *xmlChangeRequest) ([]pendingChange, *batchError) {
	ch := req.ChangeBatch.Changes
	if len(ch) == 0 {
		return nil, &batchError{input: "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1"}
	}
	records, chars := 0, 0
	var out []pendingChange
	var msgs []string
	for _, c := range ch {
		x := c.ResourceRecordSet
		desc := fmt.Sprintf("[Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", c.Action, x.Name, x.Type, strOr(x.SetIdentifier, "null"))
		if c.Action != "CREATE" && c.Action != "DELETE" && c.Action != "UPSERT" {
			return nil, &batchError{input: fmt.Sprintf("Invalid XML ; value %q for Action is not one of CREATE, DELETE, UPSERT", c.Action)}
		}
		if !slices.Contains(knownTypes, x.Type) {
			return nil, &batchError{input: fmt.Sprintf("Invalid XML ; value %q for Type is not a valid record type", x.Type)}
		}
		if x.AliasTarget != nil || x.Region != nil || x.Failover != nil || x.GeoLocation != nil || x.HealthCheckID != nil || x.TrafficPolicyID != nil {
			return nil, &batchError{input: "this test peer models only simple, weighted and multivalue record sets without alias targets or health checks: " + desc}
		}
		if x.TTL == nil || x.ResourceRecords == nil || len(x.ResourceRecords.Records) == 0 {
			return nil, &batchError{input: "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with " + desc}
		}
		if *x.TTL < 0 || *x.TTL > 2147483647 {
			return nil, &batchError{input: fmt.Sprintf("1 validation error detected: Value '%d' at 'TTL' failed to satisfy constraint: Member must have value between 0 and 2147483647", *x.TTL)}
		}
		routing := 0
		if x.Weight != nil {
			routing++
		}
		if x.MultiValueAnswer != nil {
			routing++
		}
		switch {
		case x.SetIdentifier != nil && routing == 0:
			return nil, &batchError{input: "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in Change with " + desc}
		case routing > 1:
			return nil, &batchError{input: "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found more than one in Change with " + desc}
		case routing == 1 && x.SetIdentifier == nil:
			return nil, &batchError{input: "Invalid request: Missing field 'SetIdentifier' in Change with " + desc}
		case x.SetIdentifier != nil && (len(*x.SetIdentifier) < 1 || len(*x.SetIdentifier) > 128):
			return nil, &batchError{input: "1 validation error detected: 'SetIdentifier' must have length between 1 and 128"}
		case x.Weight != nil && (*x.Weight < 0 || *x.Weight > 255):
			return nil, &batchError{input: "1 validation error detected: 'Weight' must have value between 0 and 255"}
		case x.MultiValueAnswer != nil && (x.Type == "CNAME" || x.Type == "NS" || x.Type == "SOA"):
			return nil, &batchError{input: "Invalid request: MultiValueAnswer is not supported for type " + x.Type + " in Change with " + desc}
		}
		name, err := normalName(x.Name)
		if err != nil {
			return nil, &batchError{input: fmt.Sprintf("Invalid name %q: %v", x.Name, err)}
		}
		set := RecordSet{Name: name, Type: x.Type, TTL: *x.TTL, Weight: x.Weight, MultiValueAnswer: x.MultiValueAnswer}
		if x.SetIdentifier != nil {
			set.SetIdentifier = *x.SetIdentifier
		}
		n := 1
		if c.Action == "UPSERT" {
			n = 2
		}
		for _, v := range x.ResourceRecords.Records {
			set.Values = append(set.Values, v.Value)
			records += n
			chars += n * len(v.Value)
		}
		if !inZone(name, z.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name))
		}
		if m := checkValues(set); m != "" {
			msgs = append(msgs, m)
		}
		out = append(out, pendingChange{action: c.Action, set: set})
	}
	if records > maxBatchRecords {
		msgs = append(msgs, fmt.Sprintf("Number of records limit of %d exceeded.", maxBatchRecords))
	}
	if chars > maxBatchChars {
		msgs = append(msgs, fmt.Sprintf("Number of characters in values limit of %d exceeded.", maxBatchChars))
	}
	if len(msgs) > 0 {
		return nil, &batchError{messages: msgs}
	}
	return out, nil
}

func strOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// checkValues checks the record data of the types ec2boot writes.
func checkValues(set RecordSet) string {
	bad := func(code, what, v string) string {
		return fmt.Sprintf("Invalid Resource Record: FATAL problem: %s (%s) encountered with '%s'", code, what, v)
	}
	if set.Type == "CNAME" && len(set.Values) > 1 {
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s has more than one value", set.Name)
	}
	for _, v := range set.Values {
		switch set.Type {
		case "A":
			if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
				return bad("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address", v)
			}
		case "AAAA":
			if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
				return bad("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", v)
			}
		case "TXT", "SPF":
			if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
				return bad("InvalidCharacterString", "Value should be enclosed in quotation marks", v)
			}
		}
		if v == "" {
			return bad("UnknownError", "Value is empty", v)
		}
	}
	return ""
}

func describe(set RecordSet) string {
	if set.SetIdentifier != "" {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", set.Name, set.Type, set.SetIdentifier)
	}
	return fmt.Sprintf("[name='%s', type='%s']", set.Name, set.Type)
}

// applyChanges runs the changes in order on a copy of the zone's sets:
// either all apply (the new sets are returned) or none (the messages).
func applyChanges(z *zone, changes []pendingChange) ([]RecordSet, []string) {
	sets := make([]RecordSet, len(z.sets))
	for i, r := range z.sets {
		sets[i] = r.clone()
	}
	var msgs []string
	for _, c := range changes {
		i := slices.IndexFunc(sets, func(r RecordSet) bool { return sameKey(r, c.set) })
		switch c.action {
		case "CREATE":
			if i >= 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", describe(c.set)))
				continue
			}
		case "DELETE":
			switch {
			case i < 0:
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", describe(c.set)))
			case !sameSet(sets[i], c.set):
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", describe(c.set)))
			case c.set.Name == z.Name && (c.set.Type == "SOA" || c.set.Type == "NS"):
				msgs = append(msgs, fmt.Sprintf("A HostedZone must contain exactly one SOA record and at least one NS record for the zone itself; %s cannot be deleted", describe(c.set)))
			default:
				sets = slices.Delete(sets, i, i+1)
			}
			continue
		}
		if m := conflicts(z, sets, c.set, i); m != "" {
			msgs = append(msgs, m)
			continue
		}
		if i >= 0 {
			sets[i] = c.set.clone()
		} else {
			sets = append(sets, c.set.clone())
		}
	}
	if len(msgs) > 0 {
		return nil, msgs
	}
	slices.SortFunc(sets, compareSets)
	return sets, nil
}

// conflicts says why set cannot join sets (skipping index self, the set
// it replaces): CNAME beside other data, simple beside routed sets of one
// name and type, weighted beside multivalue.
func conflicts(z *zone, sets []RecordSet, set RecordSet, self int) string {
	if set.Type == "CNAME" && set.Name == z.Name {
		return fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", set.Name, z.Name)
	}
	for j, o := range sets {
		if j == self || o.Name != set.Name {
			continue
		}
		if (o.Type == "CNAME") != (set.Type == "CNAME") {
			return fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type %s with the same DNS name already exists in zone %s", set.Type, set.Name, o.Type, z.Name)
		}
		if o.Type == set.Type && routingKind(o) != routingKind(set) {
			id := ""
			if set.SetIdentifier != "" {
				id = ", SetIdentifier " + set.SetIdentifier
			}
			return fmt.Sprintf("RRSet with DNS name %s, type %s%s cannot be created because a %s rrset exists with the same name and type", set.Name, set.Type, id, routingKind(o))
		}
	}
	return ""
}

func routingKind(r RecordSet) string {
	switch {
	case r.Weight != nil:
		return "weighted"
	case r.MultiValueAnswer != nil:
		return "multivalue answer"
	default:
		return "non-routed"
	}
}

// sameSet is DELETE's exact match: TTL, every value (in any order), and
// the routing fields.
func sameSet(a, b RecordSet) bool {
	if a.TTL != b.TTL || !eqPtr(a.Weight, b.Weight) || !eqPtr(a.MultiValueAnswer, b.MultiValueAnswer) {
		return false
	}
	x, y := slices.Clone(a.Values), slices.Clone(b.Values)
	slices.Sort(x)
	slices.Sort(y)
	return slices.EqualFunc(x, y, func(p, q string) bool { return p == q || (isAddr(p) && strings.EqualFold(p, q)) })
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
