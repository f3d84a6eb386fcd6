package ddns

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// applyLocked does Apply's work while holding the state lock: it re-reads
// state (another run may have written since the plan), sends, records the
// outcomes and saves state once, only if it changed. It returns one line per
// record that could not be registered.
func (p *Plan) applyLocked(ctx context.Context, res *step.Result) ([]string, error) {
	now := p.env.Clock.Now()
	st, _, _, repaired, err := loadState(p.env.State, now)
	if err != nil {
		return nil, fmt.Errorf("ddns: %w", err)
	}
	before := st.clone()
	p.blockedNow = map[string]bool{}
	p.forget(st, now)

	var send []*item
	for _, it := range p.items {
		switch {
		case it.d.act == actSend && st.Gen != p.gen && p.doneSincePlan(st, it):
			p.env.Log.Info().Str("name", it.name).Msg("ddns: already registered by a concurrent run; not sending again")
		case it.d.act == actSend:
			send = append(send, it)
		case it.d.act == actConflict:
			p.keepContests(st, it)
			p.env.Log.Warn().Str("name", it.name).Msg("ddns: conflict: " + strings.Join(it.d.reasons, "; "))
		case it.d.act == actNone:
			p.keepContests(st, it)
			for _, r := range it.rrs {
				k := recordKey(it.acct.name, it.name, r.typ)
				switch {
				case slices.Contains(it.d.verify, r.typ):
					st.Records[k] = &RecordState{Account: it.acct.name, Name: it.name, Type: r.typ, Addr: r.want,
						Touched: now, Via: "dns", Confirmed: true}
				case slices.Contains(it.d.confirm, r.typ) && st.Records[k] != nil && st.Records[k].Addr == r.want:
					st.Records[k].Confirmed = true
				}
			}
		}
	}

	var problems []string
	var sent []*item
	dead := map[string]string{} // account -> why the rest of its batches are not tried
	for _, b := range p.batches(send) {
		if why, ok := dead[b.acct.name]; ok {
			for _, it := range b.items {
				problems = append(problems, fmt.Sprintf("%s: not tried: %s", it.name, why))
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			why := "step budget (dns.budget) used up"
			if interrupt.Cancelled(ctx) {
				why = "the run was interrupted"
			}
			for _, it := range b.items {
				problems = append(problems, fmt.Sprintf("%s: not tried: %s", it.name, why))
			}
			continue
		}
		p.requests++
		outs := p.send(ctx, b)
		for i, it := range b.items {
			o := outs[i]
			if o.Class == Failed && interrupt.Cancelled(ctx) {
				// A request cut short by the interruption is not the
				// provider's failure: nothing is recorded against it.
				problems = append(problems, fmt.Sprintf("%s: interrupted before the provider answered", it.name))
				continue
			}
			if msg := p.record(st, it, o, now); msg != "" {
				problems = append(problems, msg)
			} else {
				sent = append(sent, it)
				p.keepContests(st, it)
				res.Changed = append(res.Changed, fmt.Sprintf("registered %s %s at %s (%s)", it.name, myIP(it.change().Addrs), it.acct.name, o.Code))
			}
			if o.Class != Success && o.Scope == AccountScope {
				dead[b.acct.name] = fmt.Sprintf("account %s answered %s earlier in this run", b.acct.name, o.Code)
			}
		}
	}
	if p.requests > 0 {
		res.Changed = append(res.Changed, fmt.Sprintf("sent %d dynamic DNS request(s)", p.requests))
	}
	p.confirm(ctx, st, sent)

	st.prune()
	if !st.sameAs(before) || repaired != "" {
		st.Gen = before.Gen + 1
		if err := p.env.State.Save(stateName, st, now); err != nil {
			return problems, fmt.Errorf("ddns: %w", err)
		}
	}
	return problems, nil
}

// keepContests stores what the decision learnt about other claimants.
func (p *Plan) keepContests(st *State, it *item) {
	for _, c := range it.d.contests {
		k := recordKey(it.acct.name, it.name, c.typ)
		if c.c == nil {
			delete(st.Contests, k)
		} else {
			st.Contests[k] = c.c
		}
	}
}

// doneSincePlan reports whether another run registered its addresses
// after this plan was made, so sending again would only earn a nochg.
func (p *Plan) doneSincePlan(st *State, it *item) bool {
	for _, r := range it.rrs {
		cur := st.Records[recordKey(it.acct.name, it.name, r.typ)]
		if cur == nil || cur.Addr != r.want || cur.Via != "update" {
			return false
		}
		if r.state != nil && cur.Touched.Equal(r.state.Touched) {
			return false // unchanged since the plan read it
		}
	}
	return true
}

// record stores one outcome and returns a problem line, or "" on success.
func (p *Plan) record(st *State, it *item, o Outcome, now time.Time) string {
	a := it.acct
	switch o.Class {
	case Success:
		for _, r := range it.rrs {
			st.Records[recordKey(a.name, it.name, r.typ)] = &RecordState{Account: a.name, Name: it.name, Type: r.typ,
				Addr: r.want, Touched: now, Via: "update", Code: o.Code}
		}
		delete(st.Hosts, hostKey(a.name, it.name))
		// The account works again, unless another line of this very run
		// just said otherwise ("dnserr\ngood").
		if as := st.Accounts[a.name]; as != nil && !p.blockedNow[a.name] {
			as.Sticky, as.Hold = nil, nil
		}
		if o.Code == "nochg" && !p.env.Force && !p.expectNochg(it) {
			p.env.Log.Warn().Str("name", it.name).Msg("ddns: provider answered nochg although DNS disagreed; repeated nochg can get a name blocked")
		}
		if o.Echo != "" && !echoMatches(o.Echo, it) {
			p.env.Log.Warn().Str("name", it.name).Str("provider_says", o.Echo).Str("sent", myIP(it.change().Addrs)).
				Msg("ddns: provider echoed a different address than the one sent")
		}
		return ""
	case Sticky:
		b := &Block{Code: o.Code, Detail: o.Detail, Since: now, Config: a.fp}
		if o.Scope == AccountScope {
			p.blockedNow[a.name] = true
			st.account(a.name).Sticky = b
		} else {
			b.Config = it.hostFP
			st.Hosts[hostKey(a.name, it.name)] = b
		}
		return fmt.Sprintf("%s: %s (sticky: not sent again until the configuration changes or --force): %s", it.name, o.Code, o.Detail)
	case HoldOff:
		until := now.Add(HoldOffFor)
		p.blockedNow[a.name] = true
		st.account(a.name).Hold = &Block{Code: o.Code, Detail: o.Detail, Since: now, Until: until, Config: a.fp}
		return fmt.Sprintf("%s: %s: %s; next attempt at %s", it.name, o.Code, o.Detail, stamp(until))
	}
	return fmt.Sprintf("%s: %s: %s", it.name, o.Code, o.Detail)
}

// expectNochg: a refresh (or a send without a DNS answer) is expected to
// get nochg; a mismatch is not.
func (p *Plan) expectNochg(it *item) bool {
	for _, r := range it.rrs {
		if r.dns.err == nil && len(r.dns.addrs) > 0 && !slices.Equal(r.dns.addrs, []netip.Addr{r.want}) {
			return false
		}
	}
	return true
}

func echoMatches(echo string, it *item) bool {
	for _, f := range strings.Split(echo, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil {
			return true // not an address: nothing to compare
		}
		found := false
		for _, r := range it.rrs {
			found = found || r.want == a.Unmap()
		}
		if !found {
			return false
		}
	}
	return true
}

// confirm asks DNS once more for what was just registered; when it already
// answers the new address the next run has nothing left to write. The
// questions go out together: the server answered during the plan (a dead
// one is not asked again), and each question is a round trip of its own.
func (p *Plan) confirm(ctx context.Context, st *State, sent []*item) {
	if p.checker == nil {
		return
	}
	var qs []query
	var states []*RecordState
	var wants []netip.Addr
	for _, it := range sent {
		if _, ok := it.acct.provider.(TruthProvider); ok {
			// The provider's API is the truth and already shows the
			// change (Route 53 lists PENDING changes).
			for _, r := range it.rrs {
				if rs := st.Records[recordKey(it.acct.name, it.name, r.typ)]; rs != nil {
					rs.Confirmed = true
				}
			}
			continue
		}
		for _, r := range it.rrs {
			rs := st.Records[recordKey(it.acct.name, it.name, r.typ)]
			if rs == nil {
				continue
			}
			qs = append(qs, query{it.name, r.typ})
			states, wants = append(states, rs), append(wants, r.want)
		}
	}
	for i, ans := range p.lookupAll(ctx, qs, nil) {
		if ans.err == nil && slices.Equal(ans.addrs, []netip.Addr{wants[i]}) {
			states[i].Confirmed = true
		}
	}
}

// query is one DNS check: a name and a record type.
type query struct{ name, typ string }

// lookupAll asks DNS for every query in parallel and returns the answers in
// order; the checker is safe for concurrent use.
func (p *Plan) lookupAll(ctx context.Context, qs []query, checkerErr error) []answer {
	out := make([]answer, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.lookup(ctx, q.name, q.typ, checkerErr)
		}()
	}
	wg.Wait()
	return out
}
