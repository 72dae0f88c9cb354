// Package wallclock reads the wall clock as cheaply as the platform allows.
//
// The refresh engine judges expiry by the wall clock, as servers judge a
// token's exp: Go's monotonic clock stops while a machine sleeps, so a token
// could otherwise look fresh for hours after it expired. time.Now reads both
// clocks; on linux/amd64 this package reads only the wall clock, through the
// vDSO, at the cost of one monotonic read.
package wallclock

// Now returns the wall-clock time in nanoseconds since the Unix epoch. Its
// resolution may be as coarse as a microsecond.
func Now() int64 { return now() }
