package tokensource

import (
	"math"
	"time"
)

// never is the offset of an instant that never comes.
const never = time.Duration(math.MaxInt64)

// clock reads time for the sources. Deadlines are kept as offsets from a fixed
// epoch, so that the hot path reads only the monotonic clock (one cheap call)
// and a wall-clock jump cannot make a token look fresh or expired.
type clock struct {
	now   func() time.Time
	epoch time.Time
	real  bool
}

func newClock(now func() time.Time) clock {
	if now == nil {
		return clock{now: time.Now, epoch: time.Now(), real: true}
	}
	return clock{now: now, epoch: now()}
}

// tick returns the current offset from the epoch.
func (c clock) tick() time.Duration {
	if c.real {
		return time.Since(c.epoch)
	}
	return c.now().Sub(c.epoch)
}

// since returns the offset of now, a reading of c.now.
func (c clock) since(now time.Time) time.Duration { return now.Sub(c.epoch) }

// deadline returns the offset of the wall-clock instant t, measured from now.
func (c clock) deadline(now, t time.Time) time.Duration {
	if t.IsZero() {
		return never
	}
	return c.since(now) + t.Sub(now)
}
