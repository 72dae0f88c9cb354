package tokensource

import (
	"math"
	"time"

	"github.com/grpccreds/grpccreds/internal/wallclock"
)

// never is the instant, in Unix nanoseconds, that never comes.
const never = int64(math.MaxInt64)

// clock reads the wall clock. Expiry is judged by the wall clock, as a server
// judges a token's exp: Go's monotonic clock stops while a machine sleeps
// (golang/go#24595), so a token would otherwise look fresh for as long as the
// machine slept after it expired.
type clock struct {
	fake func() time.Time
	// For tests that drive overlapping fetches by hand along with a fake
	// clock: afterFunc replaces time.AfterFunc, and mono the monotonic clock
	// that times fetches.
	afterFunc func(d time.Duration, f func()) stopper
	mono      func() time.Duration
}

// epoch is where the monotonic readings of elapsed start.
var epoch = time.Now()

// elapsed reads the monotonic clock that times fetches. It is real time even
// with a fake wall clock: a fake clock moved while a fetch runs stands for a
// machine that slept, which does not make the provider slower.
func (c clock) elapsed() time.Duration {
	if c.mono != nil {
		return c.mono()
	}
	return time.Since(epoch)
}

// stopper is a timer that can be stopped, such as a *time.Timer.
type stopper interface{ Stop() bool }

// after calls f on its own goroutine after d.
func (c clock) after(d time.Duration, f func()) stopper {
	if c.afterFunc != nil {
		return c.afterFunc(d, f)
	}
	return time.AfterFunc(d, f)
}

// now returns the current time.
func (c clock) now() time.Time {
	if c.fake != nil {
		return c.fake()
	}
	return time.Now()
}

// wall returns the current time in Unix nanoseconds. It is the hot path's one
// clock read, and costs what a monotonic read does (see package wallclock).
func (c clock) wall() int64 {
	if c.fake != nil {
		return c.fake().UnixNano()
	}
	return wallclock.Now()
}

// nanos returns t in Unix nanoseconds, or never for the zero time and for
// instants too far away to count in nanoseconds.
func nanos(t time.Time) int64 {
	if t.IsZero() || t.Year() >= 2262 {
		return never
	}
	return t.UnixNano()
}
