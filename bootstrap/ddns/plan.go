package ddns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/lock"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Plan is the decided work of one run of the step.
type Plan struct {
	env      *step.Env
	started  time.Time // env.Clock time of the decision
	deadline time.Time // wall-clock end of the step's budget
	items    []*item
	accounts map[string]*account
	checker  *Checker
	client   *http.Client
	gen      int // state generation the decisions were made from
	foreign  bool

	requests   int             // provider requests sent by Apply
	blockedNow map[string]bool // accounts blocked by an answer of this Apply
}

// Requests is how many provider requests Apply sent (for benchmarks and
// tests: a no-change run must send none).
func (p *Plan) Requests() int { return p.requests }

// DNSQueries is how many DNS queries the plan and Apply sent.
func (p *Plan) DNSQueries() int {
	if p.checker == nil {
		return 0
	}
	return p.checker.Queries()
}

// batch is one request to send.
type batch struct {
	acct  *account
	items []*item
}

// batches groups the items to send per account, in configuration order.
func (p *Plan) batches(send []*item) []batch {
	var out []batch
	var order []string
	per := map[string][]*item{}
	for _, it := range send {
		if _, ok := per[it.acct.name]; !ok {
			order = append(order, it.acct.name)
		}
		per[it.acct.name] = append(per[it.acct.name], it)
	}
	for _, name := range order {
		its := per[name]
		a := its[0].acct
		changes := make([]Change, len(its))
		byName := map[string]*item{}
		for i, it := range its {
			changes[i] = it.change()
			byName[it.name] = it
		}
		for _, b := range a.provider.Batch(changes) {
			bi := make([]*item, len(b))
			for i, c := range b {
				bi[i] = byName[c.Name]
			}
			out = append(out, batch{acct: a, items: bi})
		}
	}
	return out
}

func (p *Plan) itemsWith(act action) []*item {
	var out []*item
	for _, it := range p.items {
		if it.d.act == act {
			out = append(out, it)
		}
	}
	return out
}

// Describe prints the exact requests Apply would send (password redacted)
// and why, and every record that is blocked or skipped. It prints nothing
// when there is nothing to do.
func (p *Plan) Describe(w io.Writer) {
	var b bytes.Buffer
	p.describeActions(&b)
	if b.Len() == 0 {
		return // in step everywhere: nothing to say
	}
	b.WriteTo(w)
	p.describeOwners(w)
}

func (p *Plan) describeActions(w io.Writer) {
	send := p.itemsWith(actSend)
	if bs := p.batches(send); len(bs) > 0 {
		fmt.Fprintf(w, "ddns: %d request(s) to send\n", len(bs))
		for _, b := range bs {
			fmt.Fprintf(w, "  account %s:\n", b.acct.name)
			for _, line := range strings.Split(b.acct.provider.Describe(changesOf(b.items)), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
			for _, it := range b.items {
				fmt.Fprintf(w, "    why %s: %s\n", it.name, strings.Join(it.d.reasons, "; "))
			}
		}
	}
	for _, it := range p.itemsWith(actBlocked) {
		fmt.Fprintf(w, "ddns: blocked %s (account %s): %s\n", it.name, it.rec.Account, strings.Join(it.d.reasons, "; "))
	}
	for _, it := range p.itemsWith(actSkip) {
		fmt.Fprintf(w, "ddns: skipped %s (account %s): %s\n", it.name, it.rec.Account, strings.Join(it.d.reasons, "; "))
	}
	for _, it := range p.itemsWith(actGuard) {
		fmt.Fprintf(w, "ddns: not resending %s (account %s): %s\n", it.name, it.rec.Account, strings.Join(it.d.reasons, "; "))
	}
	for _, it := range p.itemsWith(actConflict) {
		fmt.Fprintf(w, "ddns: yielding %s (account %s): %s\n", it.name, it.rec.Account, strings.Join(it.d.reasons, "; "))
	}
	for _, it := range p.itemsWith(actNone) {
		if len(it.d.verify) > 0 {
			fmt.Fprintf(w, "ddns: would remember %s %s: DNS already answers it\n", it.name, strings.Join(it.d.verify, "+"))
		}
	}
}

// describeOwners writes, for each record, who holds the name as far as DNS
// shows and what this run does about it.
func (p *Plan) describeOwners(w io.Writer) {
	if len(p.items) == 0 {
		return
	}
	fmt.Fprintln(w, "ddns: names, owners, and what this run does:")
	for _, it := range p.items {
		verdict := map[action]string{actNone: "sends nothing", actSend: "sends an update", actBlocked: "sends nothing: blocked",
			actSkip: "sends nothing: address unknown", actGuard: "sends nothing: provider already said nochg",
			actConflict: "sends nothing: yielding to the other claimant"}[it.d.act]
		if len(it.rrs) == 0 {
			fmt.Fprintf(w, "  %s: %s\n", it.name, verdict)
			continue
		}
		for _, r := range it.rrs {
			fmt.Fprintf(w, "  %s %s %s: %s; %s\n", it.name, r.typ, r.want, ownerOf(r), verdict)
		}
	}
}

// ownerOf says who holds a record as far as DNS and state tell.
func ownerOf(r rr) string {
	switch {
	case p0(r.dns) && r.state != nil && r.state.Addr == r.want:
		return "owner: this instance, by its state (DNS not checked)"
	case p0(r.dns):
		return "owner: unknown (DNS not checked)"
	case r.dns.err != nil:
		return fmt.Sprintf("owner: unknown (%s check failed: %v)", r.dns.source(), r.dns.err)
	case slices.Equal(r.dns.addrs, []netip.Addr{r.want}):
		return "owner: this instance (" + r.dns.source() + " answers its address)"
	case len(r.dns.addrs) == 0:
		return "owner: nobody (" + r.dns.source() + " answers nothing)"
	case r.contest != nil && !r.contest.Yielded.IsZero():
		return fmt.Sprintf("owner: another claimant (%s answers %s); this instance yielded at %s", r.dns.source(), showAddrs(r.dns.addrs), stamp(r.contest.Yielded))
	case r.state != nil && r.state.Addr == r.want && r.state.Confirmed:
		return fmt.Sprintf("owner: another claimant, or a hand edit (%s answers %s, after it answered ours)", r.dns.source(), showAddrs(r.dns.addrs))
	}
	return fmt.Sprintf("owner: another claimant or an old value (%s answers %s)", r.dns.source(), showAddrs(r.dns.addrs))
}

// p0 reports an answer never asked for (forced runs and unknown addresses
// skip the DNS check).
func p0(a answer) bool { return a.err == nil && a.addrs == nil && a.where == "" }

func changesOf(items []*item) []Change {
	out := make([]Change, len(items))
	for i, it := range items {
		out[i] = it.change()
	}
	return out
}

// needsState reports whether Apply has anything to send or remember.
func (p *Plan) needsState() bool {
	if p.foreign {
		return true
	}
	for _, it := range p.items {
		if it.d.act == actSend || len(it.d.verify) > 0 || len(it.d.confirm) > 0 || len(it.d.contests) > 0 {
			return true
		}
	}
	return false
}

// Apply sends the planned updates and records the outcomes. It returns an
// error when any record could not be registered (failed, or blocked by a
// sticky error or hold-off), after every other record was tried.
func (p *Plan) Apply(ctx context.Context) (step.Result, error) {
	var res step.Result
	if len(p.items) == 0 {
		return res, nil
	}
	ctx, cancel := context.WithDeadline(ctx, p.deadline)
	defer cancel()
	defer p.client.CloseIdleConnections()

	var problems []string
	if p.needsState() || p.staleBlocks() {
		if p.env.State == nil || p.env.State.ReadOnly() {
			return res, errors.New("ddns: no writable state store")
		}
		// A lock next to the state file, so that two applies (even in one
		// process) never send the same update twice or lose each other's
		// state. The run holds its own lock too; this one keeps the step
		// safe on its own, and waits for as long as the step's budget.
		l, err := lock.Wait(ctx, filepath.Join(p.env.State.Dir(), stateName+".lock"))
		if err != nil {
			return res, fmt.Errorf("ddns: state lock: %w", err)
		}
		probs, err := p.applyLocked(ctx, &res)
		_ = l.Release()
		problems = append(problems, probs...)
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, it := range p.items {
		switch it.d.act {
		case actBlocked:
			problems = append(problems, fmt.Sprintf("%s: blocked: %s", it.name, strings.Join(it.d.reasons, "; ")))
		case actSkip, actGuard, actConflict:
			res.Degraded = append(res.Degraded, fmt.Sprintf("ddns %s: %s", it.name, strings.Join(it.d.reasons, "; ")))
		}
	}
	log := p.env.Log.Debug()
	if p.requests > 0 {
		log = p.env.Log.Info()
	}
	log.Int("requests", p.requests).Int("dns_queries", p.DNSQueries()).Int("records", len(p.items)).Msg("ddns done")
	if len(problems) > 0 {
		return res, fmt.Errorf("ddns: %d of %d record(s) not registered: %s", len(problems), len(p.items), strings.Join(problems, " | "))
	}
	return res, nil
}

// staleBlocks reports whether state holds blocks that no longer apply
// (configuration changed, hold-off over), which Apply then forgets, or
// impossible times, which Apply then saves repaired.
func (p *Plan) staleBlocks() bool {
	st, _, _, repaired, err := loadState(p.env.State, p.started)
	if err != nil {
		return false
	}
	return p.forget(st.clone(), p.started) || repaired != ""
}

// forget drops from st whatever no longer applies: blocks earned with
// another configuration, hold-offs that are over, and records, names and
// accounts no longer configured. It reports whether anything was dropped.
func (p *Plan) forget(st *State, now time.Time) bool {
	changed := false
	recs := map[string]bool{}
	hosts := map[string]string{} // hostKey -> current fingerprint
	fps := map[string]string{}   // recordKey -> the fingerprint a contest must have
	for _, it := range p.items {
		hosts[hostKey(it.acct.name, it.name)] = it.hostFP
		for _, typ := range []string{"A", "AAAA"} {
			recs[recordKey(it.acct.name, it.name, typ)] = true
		}
		for _, r := range it.rrs {
			fps[recordKey(it.acct.name, it.name, r.typ)] = r.fp
		}
	}
	for k, c := range st.Contests {
		if fp, ok := fps[k]; !ok || c.Config != fp {
			delete(st.Contests, k)
			changed = true
		}
	}
	for k := range st.Records {
		if !recs[k] {
			delete(st.Records, k)
			changed = true
		}
	}
	for k, b := range st.Hosts {
		if fp, ok := hosts[k]; !ok || (fp != "" && b.Config != fp) {
			delete(st.Hosts, k)
			changed = true
		}
	}
	for name, as := range st.Accounts {
		a, ok := p.accounts[name]
		if !ok {
			delete(st.Accounts, name)
			changed = true
			continue
		}
		if a.err != nil {
			continue // cannot tell: keep
		}
		if as.Sticky != nil && as.Sticky.Config != a.fp {
			as.Sticky, changed = nil, true
		}
		if as.Hold != nil && (as.Hold.Config != a.fp || !now.Before(as.Hold.Until)) {
			as.Hold, changed = nil, true
		}
	}
	st.prune()
	return changed
}
