// Package clock is the one source of time for ec2boot, so that tests can
// move time (refresh intervals, back-off windows, staleness) without sleeping.
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Fake is a settable clock for tests.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Set moves the fake clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// NotAfter returns t, or now when t is after now; clamped says which. A
// time read from state that lies in the future cannot be true: the clock
// jumped back since it was written, or the state was baked into an image
// on a host whose clock was ahead. Trusted, it would hold things off or
// keep them forever ("failing since 2099" is never old enough to drop).
func NotAfter(t, now time.Time) (_ time.Time, clamped bool) {
	if t.After(now) {
		return now, true
	}
	return t, false
}

// Future collects the times in the future found in one state file, so
// that the run logs them once, in one line, instead of once per value.
type Future struct {
	Now    time.Time
	Count  int
	Latest time.Time
}

// Past clamps *t to f.Now when it lies in the future, and counts it.
func (f *Future) Past(t *time.Time) {
	if c, clamped := NotAfter(*t, f.Now); clamped {
		f.Count++
		if t.After(f.Latest) {
			f.Latest = *t
		}
		*t = c
	}
}

// String is the log line's substance, "" when nothing was in the future.
func (f *Future) String() string {
	if f.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d time(s) in the future (latest %s, now %s) treated as now: the clock jumped back, or the state was made on a host whose clock was ahead",
		f.Count, f.Latest.UTC().Format(time.RFC3339), f.Now.UTC().Format(time.RFC3339))
}
