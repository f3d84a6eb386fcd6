package dnsclient

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// udpSize is the UDP payload size advertised in the query's EDNS0 OPT
// record: 1232 bytes crosses any path without IP fragmentation (DNS flag
// day 2020), and larger answers come back truncated and are asked again
// over TCP.
const udpSize = 1232

// Reply is a server's answer reduced to what ec2boot reads.
type Reply struct {
	// Rcode includes the extended bits of an EDNS0 OPT record.
	Rcode         dnsmessage.RCode
	Authoritative bool
	// Truncated is set when the answer did not fit; Exchange has already
	// asked again over TCP, so a Truncated reply from it came over TCP.
	Truncated bool
	Answer    []Record
	// Authority holds the zone's SOA in a negative answer (NXDOMAIN or no
	// data), and NS records in a referral.
	Authority []Record
}

// Record is one resource record of class IN. Names are lower case and
// absolute. Records of types not listed below carry only Name and Type.
type Record struct {
	Name string // owner
	Type dnsmessage.Type
	Addr netip.Addr // A, AAAA
	// Target is the host of an NS, the target of a CNAME, or the primary
	// server (MNAME) of a SOA.
	Target string
}

// mismatchError says bytes are not the reply to our query: unreadable, not
// a response, another ID or another question. Over UDP anyone can send
// such a datagram (a late reply to an earlier query, or a forgery), so the
// exchange ignores it and keeps waiting for the real one.
type mismatchError struct{ why string }

func (e *mismatchError) Error() string { return "not the reply to the query: " + e.why }

func isMismatch(err error) bool {
	var m *mismatchError
	return errors.As(err, &m)
}

// buildQuery packs one question with an EDNS0 OPT record.
func buildQuery(id uint16, q dnsmessage.Question, recurse bool) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 64), dnsmessage.Header{ID: id, RecursionDesired: recurse})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(udpSize, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	return b.Finish()
}

// parseReply reads b as the reply to query id asking q. It returns a
// *mismatchError when b is not that reply, and another error when it is
// but cannot be read. A truncated reply whose sections are cut off is
// returned with what was read and Truncated set.
func parseReply(b []byte, id uint16, q dnsmessage.Question) (*Reply, error) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return nil, &mismatchError{err.Error()}
	}
	switch {
	case !h.Response:
		return nil, &mismatchError{"a query, not a response"}
	case h.ID != id:
		return nil, &mismatchError{fmt.Sprintf("ID %d, want %d", h.ID, id)}
	}
	rq, err := p.Question()
	if err != nil {
		return nil, &mismatchError{"no question: " + err.Error()}
	}
	switch {
	case rq.Class != q.Class:
		return nil, &mismatchError{fmt.Sprintf("question of class %d, not %d", rq.Class, q.Class)}
	case rq.Type != q.Type || !equalName(rq.Name.String(), q.Name.String()):
		return nil, &mismatchError{fmt.Sprintf("answers %s %s, not %s %s",
			rq.Name.String(), TypeText(rq.Type), q.Name.String(), TypeText(q.Type))}
	}
	r := &Reply{Rcode: h.RCode, Authoritative: h.Authoritative, Truncated: h.Truncated}
	if err := r.readSections(&p, h.RCode); err != nil {
		if h.Truncated {
			return r, nil // cut off where it did not fit: keep what came
		}
		return nil, fmt.Errorf("malformed reply: %w", err)
	}
	return r, nil
}

// readSections reads the answer and authority records and takes the
// extended rcode from an OPT record in the additional section.
func (r *Reply) readSections(p *dnsmessage.Parser, rcode dnsmessage.RCode) error {
	if err := p.SkipAllQuestions(); err != nil {
		return err
	}
	var err error
	if r.Answer, err = readRecords(p, p.AnswerHeader, p.SkipAnswer); err != nil {
		return err
	}
	if r.Authority, err = readRecords(p, p.AuthorityHeader, p.SkipAuthority); err != nil {
		return err
	}
	for {
		h, err := p.AdditionalHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Type == dnsmessage.TypeOPT {
			r.Rcode = h.ExtendedRCode(rcode)
		}
		if err := p.SkipAdditional(); err != nil {
			return err
		}
	}
}

// readRecords reads one section through its header and skip functions.
// On an error it returns the records read before it too, which is what a
// truncated reply holds.
func readRecords(p *dnsmessage.Parser, next func() (dnsmessage.ResourceHeader, error), skip func() error) ([]Record, error) {
	var out []Record
	for {
		h, err := next()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if h.Class != dnsmessage.ClassINET {
			if err := skip(); err != nil {
				return out, err
			}
			continue
		}
		rec := Record{Name: lowerASCII(h.Name.String()), Type: h.Type}
		switch h.Type {
		case dnsmessage.TypeA:
			v, err := p.AResource()
			if err != nil {
				return out, err
			}
			rec.Addr = netip.AddrFrom4(v.A)
		case dnsmessage.TypeAAAA:
			v, err := p.AAAAResource()
			if err != nil {
				return out, err
			}
			rec.Addr = netip.AddrFrom16(v.AAAA)
		case dnsmessage.TypeCNAME:
			v, err := p.CNAMEResource()
			if err != nil {
				return out, err
			}
			rec.Target = lowerASCII(v.CNAME.String())
		case dnsmessage.TypeNS:
			v, err := p.NSResource()
			if err != nil {
				return out, err
			}
			rec.Target = lowerASCII(v.NS.String())
		case dnsmessage.TypeSOA:
			v, err := p.SOAResource()
			if err != nil {
				return out, err
			}
			rec.Target = lowerASCII(v.NS.String())
		default:
			if err := skip(); err != nil {
				return out, err
			}
		}
		out = append(out, rec)
	}
}
