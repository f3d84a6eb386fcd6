package imds

import (
	"context"
	"errors"
	"math/rand/v2"
	"syscall"
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

// notUpPace paces retries while nothing answers at the service's address
// at all: the connection is refused or there is no route yet (early boot,
// before the interface is configured). That answer comes from the local
// network stack and never reaches the service, so asking again soon costs
// the service nothing, and the run notices the service within this long of
// it coming up instead of within the back-off (up to Max). It is still not
// a busy loop: about 50 cheap attempts a second, each failing at once.
const notUpPace = 20 * time.Millisecond

// notUp reports whether err says nothing is there yet, as opposed to a
// service that answered badly or slowly (which backs off).
func notUp(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EHOSTUNREACH)
}

// sleepAfter waits before retry number n after err: the short notUpPace
// when the service is not up yet, the back-off otherwise.
func (b Backoff) sleepAfter(ctx context.Context, n int, err error) bool {
	if notUp(err) {
		return wait(ctx, notUpPace/2+time.Duration(rand.Float64()*float64(notUpPace/2)))
	}
	return b.sleep(ctx, n)
}

// sleep waits for the n-th retry delay or until ctx ends, and reports
// whether to try again. A wait that would run past the deadline is cut
// short to leave one last attempt, or skipped when not even that fits.
func (b Backoff) sleep(ctx context.Context, n int) bool {
	return wait(ctx, b.Delay(n, rand.Float64()))
}

func wait(ctx context.Context, d time.Duration) bool {
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
