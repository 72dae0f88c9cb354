package tokensource

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// EventKind says what happened to a refresh.
type EventKind int

// The refresh events.
const (
	RefreshStarted EventKind = iota + 1
	RefreshSucceeded
	RefreshFailed
	// RefreshUnchanged: the source returned the token the engine already
	// holds. It is not a refresh: the generation stays, and the engine retries
	// on its backoff schedule.
	RefreshUnchanged
	// SourceCachesTokens is sent once per engine, with the first
	// RefreshUnchanged: the source keeps a cache of its own that defeats the
	// early refresh. Err names the fix.
	SourceCachesTokens
	// Invalidated: a server rejected the token of Generation (a connection
	// retrying an Unauthenticated call reports it); the engine demoted it and
	// started a fetch for its replacement.
	Invalidated
	// CallerWaited: a caller found no usable token and waited for a fetch.
	// Took is how long it waited, Err what it got (nil for a token). It is
	// sent only to an observer, on the caller's goroutine, and never for a
	// caller served a cached token.
	CallerWaited
)

// String names the event kind.
func (k EventKind) String() string {
	switch k {
	case RefreshStarted:
		return "refresh started"
	case RefreshSucceeded:
		return "refresh succeeded"
	case RefreshFailed:
		return "refresh failed"
	case RefreshUnchanged:
		return "refresh returned the same token"
	case SourceCachesTokens:
		return "token source caches tokens"
	case Invalidated:
		return "token invalidated"
	case CallerWaited:
		return "caller waited for a token"
	}
	return "unknown"
}

// Event describes one step of a refresh. It never carries token text.
//
// Fetches overlap for tokens that barely outlive a fetch (see [Refresher]).
// A fetch that ends after a later one keeps the token in hand if that
// expires later; its RefreshSucceeded then describes the token kept
// (Generation, Expiry, RefreshAt).
type Event struct {
	Kind       EventKind
	Attempt    int       // the fetch's attempt: 1 for the first try after a success
	Generation uint64    // RefreshSucceeded: the new token's; Invalidated: the demoted one's
	Expiry     time.Time // RefreshSucceeded: when the token stops being served
	RefreshAt  time.Time // RefreshSucceeded: when the next background refresh starts
	NextRetry  time.Time // RefreshFailed, RefreshUnchanged: the earliest next attempt
	// Took is how long the fetch took (RefreshSucceeded, RefreshFailed,
	// RefreshUnchanged) or the caller waited (CallerWaited), in real time.
	Took time.Duration
	// Serving: RefreshFailed while a usable token is still served, so no
	// caller sees the failure yet.
	Serving bool
	Err     error // RefreshFailed: a status error; SourceCachesTokens: ErrSourceCaches; CallerWaited: the caller's error
}

// eventQueue delivers events in the order they were posted, one at a time.
type eventQueue struct {
	mu      sync.Mutex // guards pending
	pending []Event
	deliver sync.Mutex // held while events are handed out
}

func (q *eventQueue) post(ev Event) {
	q.mu.Lock()
	q.pending = append(q.pending, ev)
	q.mu.Unlock()
}

// flush hands every pending event to emit. Concurrent flushes take turns, and
// each takes the events in the order they were posted.
func (q *eventQueue) flush(emit func(Event)) {
	q.deliver.Lock()
	defer q.deliver.Unlock()
	for {
		q.mu.Lock()
		evs := q.pending
		q.pending = nil
		q.mu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, ev := range evs {
			emit(ev)
		}
	}
}

func (c *config) emit(ev Event) {
	if c.observer != nil {
		c.observer(ev)
	}
	if c.logger != nil {
		c.log(ev)
	}
}

func (c *config) log(ev Event) {
	ctx, l := context.Background(), c.logger
	switch ev.Kind {
	case RefreshStarted:
		l.LogAttrs(ctx, slog.LevelDebug, "tokensource: token refresh started", slog.Int("attempt", ev.Attempt))
	case RefreshSucceeded:
		l.LogAttrs(ctx, slog.LevelDebug, "tokensource: token refreshed", slog.Int("attempt", ev.Attempt),
			slog.Uint64("generation", ev.Generation), slog.Time("expiry", ev.Expiry), slog.Time("refresh_at", ev.RefreshAt))
	case RefreshFailed:
		l.LogAttrs(ctx, slog.LevelWarn, "tokensource: token refresh failed",
			slog.Int("attempt", ev.Attempt), slog.String("error", ev.Err.Error()), slog.Time("next_retry", ev.NextRetry))
	case RefreshUnchanged:
		l.LogAttrs(ctx, slog.LevelDebug, "tokensource: token source returned the same token; retrying later",
			slog.Int("attempt", ev.Attempt), slog.Time("next_retry", ev.NextRetry))
	case SourceCachesTokens:
		l.LogAttrs(ctx, slog.LevelWarn, ev.Err.Error())
	case Invalidated:
		l.LogAttrs(ctx, slog.LevelWarn, "tokensource: the server rejected the token; fetching a new one",
			slog.Uint64("generation", ev.Generation))
	}
}
