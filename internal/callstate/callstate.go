// Package callstate carries what a connection and its credential tell each
// other about one call: tokens the caller chose for particular credentials,
// the generation the credential sent, and the generation the call must move
// past. The credential records what it actually sent, so that a retry never
// has to guess.
package callstate

import (
	"context"
	"sync/atomic"
)

type key struct{}

// State is one call's record. Its Sent field may be written by gRPC's
// goroutines (one per attempt) while the caller waits, hence the atomic.
type State struct {
	tokens *token
	// After, if not 0, asks for a token of a later generation than After.
	After uint64
	sent  atomic.Uint64
}

// token is a per-call token meant for one credential, in a list that a
// context and the contexts derived from it share and never modify.
type token struct {
	owner any
	value string
	next  *token
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

// Next returns a new State for a call on ctx, keeping the caller's tokens.
func Next(ctx context.Context) *State {
	s := &State{}
	if prev := From(ctx); prev != nil {
		s.tokens = prev.tokens
	}
	return s
}

// WithToken returns ctx carrying value as the per-call token for owner, in
// addition to any tokens ctx carries for other owners.
func WithToken(ctx context.Context, owner any, value string) context.Context {
	s := Next(ctx)
	s.tokens = &token{owner: owner, value: value, next: s.tokens}
	return With(ctx, s)
}

// Token returns the per-call token set for owner, if any. The nearest one
// wins. A nil State has none.
func (s *State) Token(owner any) (string, bool) {
	if s == nil {
		return "", false
	}
	for t := s.tokens; t != nil; t = t.next {
		if t.owner == owner {
			return t.value, true
		}
	}
	return "", false
}

// Record notes the generation a credential sent (0: none a retry could act on).
func (s *State) Record(gen uint64) { s.sent.Store(gen) }

// Sent returns the generation last recorded.
func (s *State) Sent() uint64 { return s.sent.Load() }
