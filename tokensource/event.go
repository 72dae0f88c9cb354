package tokensource

import (
	"context"
	"log/slog"
	"time"
)

// EventKind says what happened to a refresh.
type EventKind int

// The refresh events.
const (
	RefreshStarted EventKind = iota + 1
	RefreshSucceeded
	RefreshFailed
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
	}
	return "unknown"
}

// Event describes one step of a refresh. It never carries token text.
type Event struct {
	Kind       EventKind
	Attempt    int       // 1 for the first try after a success
	Generation uint64    // RefreshSucceeded: the new token's generation
	Expiry     time.Time // RefreshSucceeded: when the token stops being served
	RefreshAt  time.Time // RefreshSucceeded: when the next background refresh starts
	NextRetry  time.Time // RefreshFailed: the earliest next attempt
	Err        error     // RefreshFailed: a *FetchError (or status error)
}

func (c *config) emit(ev Event) {
	if c.observer != nil {
		c.observer(ev)
	}
	if c.logger == nil {
		return
	}
	switch ev.Kind {
	case RefreshStarted:
		c.logger.LogAttrs(context.Background(), slog.LevelDebug, "grpccreds: token refresh started", slog.Int("attempt", ev.Attempt))
	case RefreshSucceeded:
		c.logger.LogAttrs(context.Background(), slog.LevelDebug, "grpccreds: token refreshed",
			slog.Uint64("generation", ev.Generation), slog.Time("expiry", ev.Expiry), slog.Time("refresh_at", ev.RefreshAt))
	case RefreshFailed:
		c.logger.LogAttrs(context.Background(), slog.LevelWarn, "grpccreds: token refresh failed",
			slog.Int("attempt", ev.Attempt), slog.String("error", ev.Err.Error()), slog.Time("next_retry", ev.NextRetry))
	}
}
