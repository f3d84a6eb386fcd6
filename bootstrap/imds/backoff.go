package imds

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff paces retries: the wait doubles from Initial up to Max, and each
// wait is drawn between half and all of that ("equal jitter"), so that a
// fleet booting together does not retry in lockstep.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// The default pacing: early-boot IMDS is usually up within a second or two,
// and a 2 s cap keeps the first answer after that close behind it.
const (
	DefaultBackoffInitial = 200 * time.Millisecond
	DefaultBackoffMax     = 2 * time.Second
)

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoffInitial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	return b
}

// Delay returns the wait before retry number n (0 for the first retry);
// jitter is a number in [0, 1).
func (b Backoff) Delay(n int, jitter float64) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + time.Duration(jitter*float64(d-half))
}

// lastChance is the least time worth leaving for a final attempt.
const lastChance = 50 * time.Millisecond

// sleep waits for the n-th retry delay or until ctx ends, and reports
// whether to try again. A wait that would run past the deadline is cut
// short to leave one last attempt, or skipped when not even that fits.
func (b Backoff) sleep(ctx context.Context, n int) bool {
	d := b.Delay(n, rand.Float64())
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl) - lastChance
		if left <= 0 {
			return false
		}
		d = min(d, left)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
