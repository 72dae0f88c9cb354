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

// State is one call's record. What the credential sent (Record,
// RecordFetched) may be written by gRPC's goroutines (one per attempt) while
// the caller waits, hence the atomics.
type State struct {
	tokens *token
	// Owner is the credential whose connection made this State for the call;
	// only it reads After and records what it sent, since other credentials
	// may see the same context (a second credential on the connection, or a
	// call to another connection made with the same context).
	Owner any
	// After, if not 0, asks for a token of a later generation than After.
	After uint64
	// Past, for a per-call Fetch, is the token a resend must move past: the
	// one the first attempt sent and the server rejected (nil: none).
	Past    *Fetched
	sent    atomic.Uint64
	fetched atomic.Pointer[Fetched]
}

// token is a per-call value meant for one credential, in a list that a
// context and the contexts derived from it share and never modify.
type token struct {
	owner any
	value any
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

// WithToken returns ctx carrying value as the per-call token for owner (in
// whatever form owner keeps it), in addition to any tokens ctx carries for
// other owners.
func WithToken(ctx context.Context, owner any, value any) context.Context {
	s := Next(ctx)
	s.tokens = &token{owner: owner, value: value, next: s.tokens}
	return With(ctx, s)
}

// Token returns the per-call token set for owner, if any. The nearest one
// wins. A nil State has none.
func (s *State) Token(owner any) (any, bool) {
	if s == nil {
		return nil, false
	}
	for t := s.tokens; t != nil; t = t.next {
		if t.owner == owner {
			return t.value, true
		}
	}
	return nil, false
}

// For returns s if owner is its Owner, else nil: the state a credential may
// read After from and record in.
func (s *State) For(owner any) *State {
	if s == nil || s.Owner != owner {
		return nil
	}
	return s
}

// Record notes the generation a credential sent (0: none a retry could act on).
func (s *State) Record(gen uint64) { s.sent.Store(gen) }

// Sent returns the generation last recorded.
func (s *State) Sent() uint64 { return s.sent.Load() }

// Fetch is a per-call token that the credential fetches when the call is
// made (a connection's on-behalf-of token), rather than one the caller set.
// If past is not nil and names the engine that serves the token, the token
// must be a later one than past.Gen (the call is being resent because past
// was rejected). It returns the token and which one it is (the zero Fetched
// if nothing could act on its rejection). Its errors follow
// tokensource.Func's rules.
type Fetch func(ctx context.Context, past *Fetched) (token string, sent Fetched, err error)

// Fetched identifies a token a Fetch returned: its generation in the engine
// that numbered it, which a connection tells when a server rejects it.
type Fetched struct {
	Gen uint64
	By  Invalidator
}

// Invalidator is an engine that can be told a server rejected the token of
// generation gen; it reports whether a resend is worth it (see
// engine.Generational).
type Invalidator interface{ Invalidate(gen uint64) bool }

// RecordFetched notes the per-call token a credential sent.
func (s *State) RecordFetched(f Fetched) { s.fetched.Store(&f) }

// LastFetched returns the per-call token last recorded; ok is false if none
// was.
func (s *State) LastFetched() (f Fetched, ok bool) {
	if p := s.fetched.Load(); p != nil {
		return *p, true
	}
	return Fetched{}, false
}
