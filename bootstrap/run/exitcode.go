package run

// Exit codes are part of ec2boot's interface: monitoring, systemd and
// operators' scripts act on them. See docs/usage.md.
const (
	// ExitOK: every step done (or nothing needed doing).
	ExitOK = 0
	// ExitInvalid: bad configuration or usage; nothing was changed.
	ExitInvalid = 1
	// ExitStepFailed: at least one step failed; the others were applied.
	ExitStepFailed = 2
	// ExitNoMetadata: the instance metadata service was unreachable (or this
	// is not an EC2 instance); the run used cached facts, or did nothing.
	ExitNoMetadata = 3
	// ExitDegraded: everything was applied, but a guard warns (root
	// partition past its threshold, peers kept on stale addresses).
	ExitDegraded = 4
	// ExitLocked: another ec2boot run held the lock past the wait.
	ExitLocked = 5
	// ExitInterrupted: SIGTERM or SIGINT stopped the run between two safe
	// points; what ran is kept, what did not start is left for the next
	// run. 75 is EX_TEMPFAIL of sysexits.h ("try again later"), which
	// systemd shows as status=75/TEMPFAIL: clear of 0-5 above, of the LSB
	// codes 0-7 and of the 128+signal convention, which would claim the
	// process died of the signal when it in fact stopped cleanly.
	ExitInterrupted = 75
)

// worst combines exit codes of one run: a failure outranks missing
// metadata, which outranks a degraded guard; an interruption outranks
// everything, since the run did not get to the end.
func worst(codes ...int) int {
	rank := map[int]int{ExitOK: 0, ExitDegraded: 1, ExitNoMetadata: 2, ExitStepFailed: 3, ExitInvalid: 4, ExitLocked: 5, ExitInterrupted: 6}
	out := ExitOK
	for _, c := range codes {
		if rank[c] > rank[out] {
			out = c
		}
	}
	return out
}
