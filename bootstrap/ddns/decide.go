package ddns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// action is what a run does about one record.
type action int

const (
	actNone     action = iota // DNS and state agree: nothing to send
	actSend                   // send an update
	actBlocked                // a sticky error or hold-off forbids sending (fails the step)
	actSkip                   // the address is unknown: never guess (degrades the step)
	actGuard                  // DNS disagrees but the provider said nochg: not resending (degrades)
	actConflict               // another claimant holds the name and this instance yields (degrades)
)

// answer is what DNS said for one record type.
type answer struct {
	addrs []netip.Addr
	err   error
	where string
	// api names the provider API that answered instead of DNS (Route
	// 53); "" is DNS.
	api string
}

// source is what answered, for messages: "DNS" or the provider's API.
func (a answer) source() string {
	if a.api != "" {
		return a.api
	}
	return "DNS"
}

// rr is one record type (A or AAAA) of a configured record.
type rr struct {
	typ   string
	want  netip.Addr
	state *RecordState // nil when this instance never registered it
	dns   answer
	// contest is what this instance remembers of another claimant (nil:
	// none, or one from another configuration or address); fp is the
	// fingerprint a new contest gets.
	contest *Contest
	fp      string
}

// decision is the outcome of decide for one record.
type decision struct {
	act     action
	reasons []string
	// verify lists record types DNS showed correct that state does not know
	// as such (first run, foreign state); confirm lists types whose last
	// update DNS now confirms. Both are remembered without any request.
	verify, confirm []string
	// contests are the changes to remember about other claimants; for a
	// send, only once the provider accepted it.
	contests []contestChange
}

// decideIn is everything decide looks at.
type decideIn struct {
	now     time.Time
	refresh time.Duration
	force   bool
	missing []string // address kinds the facts do not have
	rrs     []rr
	// blocks that still apply (fingerprints already checked)
	accountSticky, hostSticky, hold *Block
}

// decide is the update decision for one record. It is a pure function of
// its input, so every branch is tested without a network.
func decide(in decideIn) decision {
	if len(in.missing) > 0 {
		return decision{act: actSkip, reasons: []string{fmt.Sprintf("address unknown: the instance has no %s (metadata not ready, or none assigned); not sending a guessed or empty address", strings.Join(in.missing, " or "))}}
	}
	if in.force {
		d := decision{act: actSend, reasons: []string{"forced (--force)"}}
		for _, r := range in.rrs {
			if r.contest != nil {
				d.contests = append(d.contests, contestChange{typ: r.typ})
			}
		}
		return d
	}
	for _, b := range []*Block{in.accountSticky, in.hostSticky} {
		if b != nil {
			return decision{act: actBlocked, reasons: []string{fmt.Sprintf("sticky error %s since %s: %s", b.Code, stamp(b.Since), b.Detail)}}
		}
	}
	d := decideUpdate(in)
	// A hold-off only matters to records that need sending: the others are
	// right as they are.
	if b := in.hold; b != nil && d.act == actSend && in.now.Before(b.Until) {
		return decision{act: actBlocked, reasons: []string{fmt.Sprintf("provider answered %s at %s; next attempt at %s (wanted: %s)",
			b.Code, stamp(b.Since), stamp(b.Until), strings.Join(d.reasons, "; "))}}
	}
	return d
}

// decideUpdate compares desired addresses with DNS and state.
func decideUpdate(in decideIn) decision {
	var d decision
	var send, guard, conflict []string
	forget := func(r rr) {
		if r.contest != nil {
			d.contests = append(d.contests, contestChange{typ: r.typ})
		}
	}
	for _, r := range in.rrs {
		st := r.state
		registered := st != nil && st.Addr == r.want
		switch {
		case r.dns.err != nil:
			// No DNS answer: fall back on what this instance registered.
			if !registered {
				send = append(send, fmt.Sprintf("%s: %s check failed (%v) and %s was never registered by this instance", r.typ, r.dns.source(), r.dns.err, r.want))
			}
		case !slices.Equal(r.dns.addrs, []netip.Addr{r.want}):
			if registered && st.Via == "update" && st.Code == "nochg" && !st.Confirmed {
				guard = append(guard, fmt.Sprintf("%s: %s answers %s, but the provider already said nochg for %s at %s; not sending again (repeated nochg gets names blocked): check dns.check_server or the zone's delegation, or run --force",
					r.typ, r.dns.where, showAddrs(r.dns.addrs), r.want, stamp(st.Touched)))
				continue
			}
			if registered && st.Confirmed && len(r.dns.addrs) > 0 {
				// DNS had our address and now shows another: a
				// second claimant, or a hand edit.
				ok, why, c := decideContest(in.now, r, r.fp)
				if c != r.contest {
					d.contests = append(d.contests, contestChange{typ: r.typ, c: c})
				}
				if ok {
					send = append(send, why)
				} else {
					conflict = append(conflict, why)
				}
				continue
			}
			forget(r)
			send = append(send, fmt.Sprintf("%s: mismatch: %s says %s, want %s", r.typ, r.dns.source(), showAddrs(r.dns.addrs), r.want))
		case !registered:
			forget(r)
			d.verify = append(d.verify, r.typ)
		case !st.Confirmed:
			forget(r)
			d.confirm = append(d.confirm, r.typ)
		case r.contest != nil && (!r.contest.Yielded.IsZero() || !in.now.Before(r.contest.Repaired.Add(contestMemory))):
			// The name is ours again: the other claimant gave up,
			// or the won repair is old enough to forget.
			forget(r)
		}
	}
	switch {
	case len(conflict) > 0:
		// Never send while yielding, not even the other family of a
		// dual-stack record: dyndns2 sends both together.
		return decision{act: actConflict, reasons: conflict, contests: d.contests}
	case len(send) > 0:
		return decision{act: actSend, reasons: send, contests: d.contests}
	case len(guard) > 0:
		return decision{act: actGuard, reasons: guard}
	}
	// Everything is right; a refresh may still be due (only for what we
	// registered ourselves, counted from when we last touched it).
	for _, r := range in.rrs {
		if st := r.state; st != nil && st.Addr == r.want && in.refresh > 0 && !in.now.Before(st.Touched.Add(in.refresh)) {
			return decision{act: actSend, reasons: []string{fmt.Sprintf("refresh due: last touched %s (every %s)", stamp(st.Touched), days(in.refresh))}}
		}
	}
	return d
}

func showAddrs(a []netip.Addr) string {
	if len(a) == 0 {
		return "nothing"
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
