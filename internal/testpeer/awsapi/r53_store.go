package awsapi

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// RecordSet is one resource record set as Route 53 holds it: Name is
// normalised (lower case, trailing dot, octal escapes). Weight and
// MultiValueAnswer are the routing fields the peer models; either one
// requires SetIdentifier.
type RecordSet struct {
	Name             string
	Type             string
	SetIdentifier    string
	Weight           *int64
	MultiValueAnswer *bool
	TTL              int64
	Values           []string
}

// HostedZone is a zone the peer serves. ID is bare ("Z…"); the API shows
// it as /hostedzone/<ID>.
type HostedZone struct {
	ID      string
	Name    string
	Private bool
}

type zone struct {
	HostedZone
	callerRef string
	sets      []RecordSet // sorted
}

type change struct {
	id        string
	submitted time.Time
	comment   *string
}

// AddHostedZone creates a zone with the SOA and NS sets a new zone has.
// A private zone may share its name with a public one.
func (s *Server) AddHostedZone(name string, private bool) (HostedZone, error) {
	n, err := normalName(name)
	if err != nil {
		return HostedZone{}, fmt.Errorf("zone name %q: %w", name, err)
	}
	z := &zone{HostedZone: HostedZone{ID: newID("Z", 12), Name: n, Private: private}, callerRef: newID("", 10)}
	ns := []string{"ns-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk.", "ns-3.awsdns-03.com.", "ns-4.awsdns-04.net."}
	if private {
		ns = []string{"ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net.", "ns-1536.awsdns-00.co.uk."}
	}
	z.sets = []RecordSet{
		{Name: n, Type: "NS", TTL: 172800, Values: ns},
		{Name: n, Type: "SOA", TTL: 900, Values: []string{ns[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones[z.ID] = z
	return z.HostedZone, nil
}

// Records is a copy of the zone's record sets in the API's order.
func (s *Server) Records(zoneID string) []RecordSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[zoneID]
	if z == nil {
		return nil
	}
	out := make([]RecordSet, len(z.sets))
	for i, r := range z.sets {
		out[i] = r.clone()
	}
	return out
}

func (r RecordSet) clone() RecordSet {
	r.Values = slices.Clone(r.Values)
	if r.Weight != nil {
		w := *r.Weight
		r.Weight = &w
	}
	if r.MultiValueAnswer != nil {
		m := *r.MultiValueAnswer
		r.MultiValueAnswer = &m
	}
	return r
}

// compareSets is the listing order: name (labels reversed), type, set
// identifier.
func compareSets(a, b RecordSet) int {
	if c := compareNames(a.Name, b.Name); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.SetIdentifier, b.SetIdentifier))
}

func sameKey(a, b RecordSet) bool {
	return a.Name == b.Name && a.Type == b.Type && a.SetIdentifier == b.SetIdentifier
}
