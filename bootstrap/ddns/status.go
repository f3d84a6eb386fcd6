package ddns

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// RecordStatus is what `ec2boot status` shows for one record.
type RecordStatus struct {
	Account string     `json:"account"`
	Name    string     `json:"name"`
	Type    string     `json:"type,omitempty"` // A or AAAA; empty when never registered
	Addr    netip.Addr `json:"addr"`
	// RegisteredAt is when the provider last accepted Addr (Via "update")
	// or when DNS was first seen carrying it (Via "dns").
	RegisteredAt time.Time `json:"registered_at"`
	Via          string    `json:"via,omitempty"`
	Code         string    `json:"code,omitempty"`
	// Error is a sticky error or hold-off that stops updates, with advice.
	Error       string    `json:"error,omitempty"`
	ErrorSince  time.Time `json:"error_since"`
	NextAttempt time.Time `json:"next_attempt"` // hold-offs only
	// Foreign: the state was written by another instance (InstanceID) and
	// will be ignored by the next run.
	Foreign    bool   `json:"foreign,omitempty"`
	InstanceID string `json:"instance_id,omitempty"`
	// Conflict is another claimant of this record, when there is one.
	Conflict *ConflictStatus `json:"conflict,omitempty"`
}

// ConflictStatus is what this instance knows of another claimant of one of
// its records.
type ConflictStatus struct {
	// State is "repaired" (the name was taken and this instance sent its
	// address back once) or "yielded" (taken again: this instance sends
	// nothing and the run exits 4).
	State string `json:"state"`
	// Other is the address DNS showed instead of ours: with dyndns2 the
	// other claimant's, as far as DNS can tell.
	Other    netip.Addr `json:"other"`
	Since    time.Time  `json:"since"`
	Repaired time.Time  `json:"repaired"`
	Yielded  *time.Time `json:"yielded"`
}

func conflictOf(c *Contest) *ConflictStatus {
	if c == nil {
		return nil
	}
	cs := &ConflictStatus{State: "repaired", Other: c.Other, Since: c.Seen, Repaired: c.Repaired, Yielded: timeOrNil(c.Yielded)}
	if !c.Yielded.IsZero() {
		cs.State = "yielded"
	}
	return cs
}

// MarshalJSON writes absent times (never registered, no error, no hold-off)
// as null rather than as year 1, which scripts would take for a real time.
func (r RecordStatus) MarshalJSON() ([]byte, error) {
	type plain RecordStatus
	return json.Marshal(struct {
		plain
		RegisteredAt *time.Time `json:"registered_at"`
		ErrorSince   *time.Time `json:"error_since"`
		NextAttempt  *time.Time `json:"next_attempt"`
	}{plain(r), timeOrNil(r.RegisteredAt), timeOrNil(r.ErrorSince), timeOrNil(r.NextAttempt)})
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Status reads the step's state, without changing it, and returns one entry
// per record type registered, plus one per configured record never
// registered. cfg may be nil (then only what state holds is shown). Times
// after now are shown as now, and hold-offs capped, as the next run will
// treat them (see sanitize).
func Status(store *state.Store, cfg *config.DNS, now time.Time) ([]RecordStatus, error) {
	var st State
	writer, _, found, err := store.LoadAny(stateName, &st)
	if err != nil {
		return nil, fmt.Errorf("ddns status: %w", err)
	}
	st.init()
	st.sanitize(now)
	foreign := found && writer != store.InstanceID()
	var out []RecordStatus
	seen := map[string]bool{}
	for _, r := range st.Records {
		rs := RecordStatus{Account: r.Account, Name: r.Name, Type: r.Type, Addr: r.Addr, RegisteredAt: r.Touched,
			Via: r.Via, Code: r.Code, Foreign: foreign, InstanceID: writer}
		attachBlocks(&rs, &st, r.Confirmed)
		rs.Conflict = conflictOf(st.Contests[recordKey(r.Account, r.Name, r.Type)])
		out = append(out, rs)
		seen[hostKey(r.Account, r.Name)] = true
	}
	if cfg != nil {
		for _, rec := range cfg.Records {
			name := strings.ToLower(strings.TrimSuffix(rec.Name, "."))
			if seen[hostKey(rec.Account, name)] {
				continue
			}
			rs := RecordStatus{Account: rec.Account, Name: name, Foreign: foreign, InstanceID: writer}
			attachBlocks(&rs, &st, false)
			out = append(out, rs)
			seen[hostKey(rec.Account, name)] = true
		}
	}
	// Names blocked before they were ever registered.
	for k := range st.Hosts {
		if !seen[k] {
			acct, name, _ := strings.Cut(k, "/")
			rs := RecordStatus{Account: acct, Name: name, Foreign: foreign, InstanceID: writer}
			attachBlocks(&rs, &st, false)
			out = append(out, rs)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Type < b.Type
	})
	return out, nil
}

// attachBlocks shows the sticky error or hold-off that stops updates of a
// record. A hold-off only stops records that need sending (see decide): one
// that DNS was last seen answering correctly (confirmed) is not held up by it.
func attachBlocks(rs *RecordStatus, st *State, confirmed bool) {
	var b *Block
	if as := st.Accounts[rs.Account]; as != nil {
		if as.Sticky != nil {
			b = as.Sticky
		} else if as.Hold != nil && !confirmed {
			b = as.Hold
		}
	}
	if hb := st.Hosts[hostKey(rs.Account, rs.Name)]; hb != nil && b == nil {
		b = hb
	}
	if b == nil {
		return
	}
	rs.ErrorSince, rs.NextAttempt = b.Since, b.Until
	if b.Until.IsZero() {
		rs.Error = fmt.Sprintf("%s: %s", b.Code, b.Detail)
	} else {
		rs.Error = fmt.Sprintf("%s: %s (next attempt at %s)", b.Code, b.Detail, stamp(b.Until))
	}
}

// WriteStatus prints statuses as a table for `ec2boot status`.
func WriteStatus(w io.Writer, rs []RecordStatus) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "ddns: no records")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tADDRESS\tREGISTERED\tACCOUNT\tERROR")
	for _, r := range rs {
		typ, addr, when := r.Type, "-", "never"
		if typ == "" {
			typ = "-"
		}
		if r.Addr.IsValid() {
			addr = r.Addr.String()
			when = stamp(r.RegisteredAt)
			if r.Via == "dns" {
				when += " (found in DNS)"
			} else if r.Code != "" {
				when += " (" + r.Code + ")"
			}
		}
		errText := "-"
		if r.Error != "" {
			errText = r.Error + " since " + stamp(r.ErrorSince)
		}
		if c := r.Conflict; c != nil && c.Yielded != nil {
			errText = fmt.Sprintf("conflict: yielded to another claimant (DNS shows %s) since %s", c.Other, stamp(*c.Yielded))
		} else if c != nil && errText == "-" {
			errText = fmt.Sprintf("contested: repaired at %s after DNS showed %s", stamp(c.Repaired), c.Other)
		}
		if r.Foreign {
			errText = fmt.Sprintf("state from another instance (%s): ignored by the next run", r.InstanceID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, typ, addr, when, r.Account, errText)
	}
	tw.Flush()
}
