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
	// life is how long it is served after it arrived (expiry less leeway);
	// zero for a token that never expires.
	life time.Duration
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

// schedule builds the snapshot for a token fetched at now; lead is
// fetchTimes.lead.
func (c *config) schedule(tok *oauth2.Token, gen uint64, now time.Time, lead time.Duration) *snapshot {
	s := &snapshot{tok: tok, gen: gen, expiry: never, refreshAt: never}
	exp := expiryOf(tok)
	if exp.IsZero() {
		return s
	}
	life := exp.Sub(now)
	s.life = life - min(c.leeway, life/10)
	in := c.refreshIn(tok, s.life, lead)
	if s.renewsAt = engine.RenewsAt(tok).Round(0); !s.renewsAt.IsZero() {
		// Asking the source before it renews would bring this token back;
		// but the new token must still arrive before this one stops being
		// served, whatever the source says.
		in = max(in, min(s.renewsAt.Sub(now), s.life-lead))
	}
	s.expiryTime, s.refreshTime = now.Add(s.life), now.Add(in)
	s.expiry, s.refreshAt = nanos(s.expiryTime), nanos(s.refreshTime)
	return s
}

// refreshIn is how long after a fetch the next background refresh starts: the
// earlier of (usable lifetime − refreshBefore) and 75% of the usable lifetime,
// or the issuer's refresh_in hint when it falls inside the lifetime, less
// jitter; and never later than lead before the end of the usable lifetime
// (see fetchTimes).
func (c *config) refreshIn(tok *oauth2.Token, life, lead time.Duration) time.Duration {
	in := life * 3 / 4
	if early := life - c.refreshBefore; early > 0 && early < in {
		in = early
	}
	if hint := refreshHint(tok); hint > 0 && hint < life {
		in = hint
	}
	in -= c.spread(in)
	return max(min(in, life-lead), 0)
}

// fetchTimes records how long the last few fetches that brought an answer
// took, and derives the schedule's lead from them.
//
// The rule: a token is to be replaced at least a margin before it stops
// being served. With lo and hi the shortest and longest of the last 8
// fetches, the next one is expected to take at most hi, and the margin covers
// the spread: margin = max(hi − lo, hi/4, 5 ms) and lead = hi + margin.
//
//   - A token whose usable life U is at least lead is refreshed by one fetch
//     at a time, at the latest lead before it stops being served
//     (refreshIn); the first call past that point starts the fetch. A
//     long-lived token reaches its usual refresh point (75%, refreshBefore,
//     refresh_in) far earlier: one fetch per lifetime, as ever.
//   - A token that barely outlives a fetch (U < lead) cannot be replaced in
//     time by a fetch that starts when it arrives. Its refresh is due at
//     once and fetches overlap: when one starts, a timer starts the next
//     lo + U − lead later (at least lo/2), which is lead before the token it
//     brings stops being served if it takes lo. At most two are in flight;
//     when the timer finds two, or none is armed, the next starts as soon as
//     a fetch ends. The engine starts a fetch so only if the token was asked
//     for since it last did (the overlap stops while the token is not used,
//     until a caller comes back), and never after a failure, whose backoff
//     runs as usual. A fetch that lands after a later one installs its token
//     only if it expires later than the one in hand.
type fetchTimes struct {
	d [8]time.Duration
	n int // how many were recorded in all
}

// minMargin is the least margin of the rule above.
const minMargin = 5 * time.Millisecond

// add records a fetch that took d.
func (f *fetchTimes) add(d time.Duration) {
	f.d[f.n%len(f.d)] = max(d, 0)
	f.n++
}

// bounds returns the shortest and longest recent fetch (zeros before the
// first).
func (f *fetchTimes) bounds() (lo, hi time.Duration) {
	recent := f.d[:min(f.n, len(f.d))]
	if len(recent) == 0 {
		return 0, 0
	}
	lo, hi = recent[0], recent[0]
	for _, d := range recent[1:] {
		lo, hi = min(lo, d), max(hi, d)
	}
	return lo, hi
}

// lead is how long before a token stops being served its replacement is to
// be asked for (see the rule above).
func (f *fetchTimes) lead() time.Duration {
	lo, hi := f.bounds()
	return hi + max(hi-lo, hi/4, minMargin)
}

// overlap returns, for a token served for life, how long after a fetch
// starts the next one is to start, and whether fetches overlap at all.
func (f *fetchTimes) overlap(life time.Duration) (time.Duration, bool) {
	lo, _ := f.bounds()
	lead := f.lead()
	if life <= 0 || life >= lead {
		return 0, false
	}
	return max(lo+life-lead, lo/2), true
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
