package tokensource

import "time"

// invalidate reports that a server rejected the token of generation gen, and
// reports whether a token of a later generation exists or is being fetched,
// i.e. whether a call rejected with gen is worth resending (with
// tokenGeneration(ctx, gen)).
//
// The rejected token is demoted, not discarded: while it is valid it is still
// served to every caller until its replacement arrives, so that one spurious
// rejection followed by an identity-provider failure costs nothing more.
// Many concurrent rejections of one generation cause a single fetch.
// Invalidations are rate-limited on the engine's backoff schedule, so a
// server that rejects every token costs a few token requests per backoff
// period, not one per call; a rate-limited invalidation returns false.
func (r *Refresher) invalidate(gen uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.snap.Load()
	switch {
	case r.closed || s == nil || s.tok == nil:
		return false
	case s.gen != gen:
		return s.gen > gen
	case s.demoted:
		return len(r.calls) > 0
	}
	now := r.cfg.now()
	if len(r.calls) == 0 && r.lastErr != nil && now.Before(r.retryAt) {
		return false
	}
	if !r.mayInvalidate(now) {
		return false
	}
	d := s.retryAt(now)
	d.demoted = true
	r.snap.Store(d)
	r.events.post(Event{Kind: Invalidated, Generation: gen})
	if len(r.calls) == 0 {
		r.start()
	}
	return true
}

// mayInvalidate applies the rate limit: the n-th invalidation in a row waits
// for the n-th backoff delay after the previous one. A quiet period as long
// as the longest backoff starts the count again. r.mu must be held.
func (r *Refresher) mayInvalidate(now time.Time) bool {
	if !r.invalidNext.IsZero() && now.Sub(r.invalidNext) > r.cfg.backoffMax {
		r.invalidN = 0
	}
	if now.Before(r.invalidNext) {
		return false
	}
	r.invalidN++
	r.invalidNext = now.Add(r.cfg.backoff(r.invalidN, 0))
	return true
}
