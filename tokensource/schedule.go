package tokensource

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

// snapshot is an immutable view of the cached token. A new one replaces it
// whenever anything changes, so readers need no lock.
type snapshot struct {
	tok       *oauth2.Token
	gen       uint64
	expiry    int64 // Unix ns at which to stop serving it (never: no expiry)
	refreshAt int64 // Unix ns at which to refresh it in the background
	// The same two instants as times, for events and String.
	expiryTime, refreshTime time.Time
	// renewsAt is when the source said it would have a new token (see
	// engine.RenewsAtKey); zero if it did not say.
	renewsAt time.Time
	// demoted marks a token a server rejected (Invalidate): it is served only
	// until its replacement arrives.
	demoted bool
}

func (s *snapshot) usable(t int64) bool {
	return s != nil && s.tok != nil && t < s.expiry
}

func (s *snapshot) stale(t int64) bool { return t >= s.refreshAt }

// retryAt returns a copy of s whose background refresh moves to t.
func (s *snapshot) retryAt(t time.Time) *snapshot {
	next := *s
	next.refreshAt, next.refreshTime = nanos(t), t
	return &next
}

// schedule builds the snapshot for a token fetched at now in took.
func (c *config) schedule(tok *oauth2.Token, gen uint64, now time.Time, took time.Duration) *snapshot {
	s := &snapshot{tok: tok, gen: gen, expiry: never, refreshAt: never}
	exp := expiryOf(tok)
	if exp.IsZero() {
		return s
	}
	life := exp.Sub(now)
	usable := life - min(c.leeway, life/10)
	in := c.refreshIn(tok, usable, took)
	if s.renewsAt = engine.RenewsAt(tok).Round(0); !s.renewsAt.IsZero() {
		// Asking the source before it renews would bring this token back;
		// but the new token must still arrive before this one stops being
		// served, whatever the source says.
		in = max(in, min(s.renewsAt.Sub(now), usable-2*took))
	}
	s.expiryTime, s.refreshTime = now.Add(usable), now.Add(in)
	s.expiry, s.refreshAt = nanos(s.expiryTime), nanos(s.refreshTime)
	return s
}

// refreshIn is how long after a fetch the next background refresh starts: the
// earlier of (usable lifetime − refreshBefore) and 75% of the usable lifetime,
// or the issuer's refresh_in hint when it falls inside the lifetime, less
// jitter. It also leaves twice the last fetch's duration before the end of
// the usable lifetime, so that a slow provider is asked early enough for the
// new token to arrive before the old one stops being served; with tokens that
// barely outlive a fetch, that means refreshing at once.
func (c *config) refreshIn(tok *oauth2.Token, life, took time.Duration) time.Duration {
	in := life * 3 / 4
	if early := life - c.refreshBefore; early > 0 && early < in {
		in = early
	}
	if hint := refreshHint(tok); hint > 0 && hint < life {
		in = hint
	}
	in -= c.spread(in)
	return max(min(in, life-2*took), 0)
}

// spread returns a random part of d, at most the jitter fraction of it.
func (c *config) spread(d time.Duration) time.Duration {
	if c.jitter <= 0 {
		return 0
	}
	return time.Duration(rand.Float64() * c.jitter * float64(d))
}

// backoff is the delay before retry number attempt (1-based).
func (c *config) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := float64(c.backoffBase) * math.Pow(1.6, float64(attempt-1))
	d = min(d, float64(c.backoffMax))
	wait := time.Duration(d) - c.spread(time.Duration(d))
	return max(wait, min(retryAfter, time.Hour))
}

// refreshHint reads an issuer's refresh_in (seconds), as Azure AD sends it.
func refreshHint(tok *oauth2.Token) time.Duration {
	var secs float64
	switch v := tok.Extra("refresh_in").(type) {
	case float64:
		secs = v
	case int:
		secs = float64(v)
	case int64:
		secs = float64(v)
	case string:
		secs, _ = strconv.ParseFloat(v, 64)
	}
	return time.Duration(secs * float64(time.Second))
}
