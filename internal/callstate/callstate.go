// Package callstate carries what a connection and its credential tell each
// other about one call: a token the caller chose for it, the generation the
// credential sent, and the generation the call must move past. The credential
// records what it actually sent, so that a retry never has to guess.
package callstate

import (
	"context"
	"sync/atomic"
)

type key struct{}

// State is one call's record. Its Sent field may be written by gRPC's
// goroutines (one per attempt) while the caller waits, hence the atomic.
type State struct {
	// Override is a token chosen for this call alone; HasOverride says it is set.
	Override    string
	HasOverride bool
	// After, if not 0, asks for a token of a later generation than After.
	After uint64
	sent  atomic.Uint64
}

// With returns ctx carrying s.
func With(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// From returns the State on ctx, or nil.
func From(ctx context.Context) *State {
	s, _ := ctx.Value(key{}).(*State)
	return s
}

// Next returns a new State for a call on ctx, keeping the caller's override.
func Next(ctx context.Context) *State {
	s := &State{}
	if prev := From(ctx); prev != nil {
		s.Override, s.HasOverride = prev.Override, prev.HasOverride
	}
	return s
}

// Record notes the generation a credential sent (0: none a retry could act on).
func (s *State) Record(gen uint64) { s.sent.Store(gen) }

// Sent returns the generation last recorded.
func (s *State) Sent() uint64 { return s.sent.Load() }
