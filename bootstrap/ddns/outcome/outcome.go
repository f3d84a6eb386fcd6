// Package outcome is the verdict a DNS provider's answer gives for the next
// run. The protocol packages (rfc2136, route53) and the ddns step share it,
// so a verdict passes from the wire to the step's state unchanged.
package outcome

// Class says what a provider's answer means for the next run.
type Class int

// The classes.
const (
	// Success: the provider now has the address (good, nochg, NOERROR).
	Success Class = iota
	// Sticky: a human must act (bad credentials, key or IAM policy, unknown
	// name or zone, abuse block); nothing is sent again until the
	// configuration changes or the operator forces it.
	Sticky
	// HoldOff: the provider is in trouble or throttles; no attempt for the
	// documented hold-off.
	HoldOff
	// Failed: this attempt failed (timeout, reset, unknown reply, a lost
	// race); the next run reads and tries again.
	Failed
)

func (c Class) String() string {
	switch c {
	case Success:
		return "success"
	case Sticky:
		return "sticky error"
	case HoldOff:
		return "held off"
	}
	return "failed"
}
