package ddns

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
)

// sanitize makes the times read from state possible: none after now (a
// clock that jumped back, a state file baked on a skewed host) and no
// hold-off longer than HoldOffFor from its start, whatever the file says.
// Without it a hold-off "until 2099" would block updates for good, and a
// record "touched in 2099" would never be refreshed. It returns one line
// for the log, "" when the state was sound; the next save writes the
// repaired times.
func (st *State) sanitize(now time.Time) string {
	f := clock.Future{Now: now}
	for _, r := range st.Records {
		f.Past(&r.Touched)
	}
	for _, b := range st.Hosts {
		f.Past(&b.Since)
	}
	var capped []string
	for name, a := range st.Accounts {
		if a.Sticky != nil {
			f.Past(&a.Sticky.Since)
		}
		if h := a.Hold; h != nil {
			f.Past(&h.Since)
			if limit := h.Since.Add(HoldOffFor); h.Until.After(limit) {
				h.Until = limit
				capped = append(capped, name)
			}
		}
	}
	var parts []string
	if s := f.String(); s != "" {
		parts = append(parts, s)
	}
	if len(capped) > 0 {
		sort.Strings(capped)
		parts = append(parts, fmt.Sprintf("hold-off of account(s) %s cut to the %s maximum", strings.Join(capped, ", "), HoldOffFor))
	}
	if len(parts) == 0 {
		return ""
	}
	return "ddns state: " + strings.Join(parts, "; ")
}
