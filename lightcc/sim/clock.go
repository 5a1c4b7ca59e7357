package sim

import (
	"sync"
	"time"
)

// Clock tells the simulator what time it is. Every state transition is
// computed from it, so a ManualClock gives tests full control over time.
type Clock interface {
	Now() time.Time
}

// realClock is the wall clock used in demo mode.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that only moves when told to. It is safe for
// concurrent use because tests advance it while requests are in flight.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock stopped at t.
func NewManualClock(t time.Time) *ManualClock {
	return &ManualClock{t: t}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t. Moving it backwards does not undo anything the
// simulator has already processed; time simply stands still until the clock
// passes the last processed instant again.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
