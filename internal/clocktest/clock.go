// Package clocktest provides a hand-driven clock for refresh-timing tests.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a fake clock that moves only when told to. It keeps a wall clock
// and a monotonic clock apart, so that a test can suspend the machine: a
// suspend moves the wall clock and leaves the monotonic clock where it was,
// as Linux's CLOCK_MONOTONIC (Go's monotonic clock) does.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	mono time.Duration
}

// New returns a clock whose wall clock reads start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the wall-clock time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Monotonic returns how far the monotonic clock has run since New.
func (c *Clock) Monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// Advance moves both clocks forward by d, as running time does.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.mono += d
}

// Suspend moves the wall clock forward by d and leaves the monotonic clock
// alone, as a laptop's sleep or a paused VM does. A negative d steps the wall
// clock back, as a clock correction may.
func (c *Clock) Suspend(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
