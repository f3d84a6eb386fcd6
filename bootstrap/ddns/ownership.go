package ddns

import (
	"context"
	"fmt"
	"time"
)

// claimant is this instance as an ownership record names it; ok is false
// when the facts lack the instance-id or launch time, and then no provider
// is asked for ownership.
func (p *Plan) claimant() (Claimant, bool) {
	f := p.env.Facts
	if f == nil || f.InstanceID == "" || f.LaunchTime.IsZero() {
		return Claimant{}, false
	}
	return Claimant{InstanceID: f.InstanceID, LaunchTime: f.LaunchTime}, true
}

// decideOwner applies the ownership rule to a record about to be sent (or
// yielded) through a provider that keeps ownership records: the newer
// launch wins. Only records that would be sent or are in conflict are
// looked at, so a run with nothing to change reads no ownership record.
func (p *Plan) decideOwner(ctx context.Context, it *item) {
	op, ok := it.acct.provider.(OwnershipProvider)
	me, known := p.claimant()
	if !ok || !known || (it.d.act != actSend && it.d.act != actConflict) {
		return
	}
	o, found, err := op.Owner(ctx, it.name)
	if err != nil {
		if it.d.act == actSend {
			// Sent owned with no owner expected: if there is one, the
			// provider refuses (owner-changed) and the next run reads
			// again.
			it.owned = true
			it.d.reasons = append(it.d.reasons, fmt.Sprintf("ownership record not read (%v)", err))
		}
		return
	}
	if found {
		it.prevOwner = &o
	}
	switch {
	case !found || o.InstanceID == me.InstanceID:
		// No record, or ours: the address decision stands (a hand edit
		// of an address we own is handled like any other).
		if it.d.act == actSend {
			it.owned = true
			it.d.reasons = append(it.d.reasons, "ownership record written with the address")
		}
	case o.Wins(me) && !p.env.Force:
		it.owned = false
		it.d = decision{act: actConflict, contests: it.d.contests, reasons: []string{fmt.Sprintf(
			"conflict: the ownership record names %s, launched %s, after this instance (%s): the newer launch wins, so this instance yields and sends nothing until the record changes or --force",
			o.InstanceID, stampUTC(o.LaunchTime), stampUTC(me.LaunchTime))}}
	default:
		it.owned = true
		why := fmt.Sprintf("taking the name over from %s, launched %s, before this instance (%s): the newer launch wins",
			o.InstanceID, stampUTC(o.LaunchTime), stampUTC(me.LaunchTime))
		if p.env.Force {
			why = fmt.Sprintf("taking the name over from %s (--force)", o.InstanceID)
		}
		if it.d.act == actConflict {
			// The dyndns2 procedure would yield on the flip-flop it saw;
			// the record says this instance wins.
			it.d = decision{act: actSend}
		}
		it.d.reasons = append(it.d.reasons, why)
	}
}

func stampUTC(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// send sends one batch: with the ownership records when its records are
// owned, plainly otherwise.
func (p *Plan) send(ctx context.Context, b batch) []Outcome {
	op, ok := b.acct.provider.(OwnershipProvider)
	me, known := p.claimant()
	if !ok || !known || !b.items[0].owned {
		return b.acct.provider.Send(ctx, changesOf(b.items))
	}
	prev := map[string]*Owner{}
	for _, it := range b.items {
		prev[it.name] = it.prevOwner
	}
	return op.SendOwned(ctx, changesOf(b.items), me, prev)
}
