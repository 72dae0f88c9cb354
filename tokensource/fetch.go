package tokensource

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"golang.org/x/oauth2"
)

// servedStale notes that a caller was served a token past its refresh point,
// and starts its refresh unless a fetch is in flight. The flag is written
// only when it is not set, so that callers share its cache line unchanged.
func (r *Refresher) servedStale() {
	if !r.used.Load() {
		r.used.Store(true)
	}
	if !r.busy.Load() {
		r.refreshInBackground()
	}
}

func (r *Refresher) refreshInBackground() {
	if !r.busy.CompareAndSwap(false, true) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || len(r.calls) > 0 || !r.stillStale() {
		r.busy.Store(len(r.calls) > 0)
		return
	}
	r.start()
}

// prefetch starts a fetch if the engine has no token, no fetch in flight and
// no failure in backoff (see engine.Prefetch).
func (r *Refresher) prefetch() {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed, len(r.calls) > 0, r.snap.Load() != nil,
		r.lastErr != nil && r.cfg.now().Before(r.retryAt):
		return
	}
	r.start()
}

// stillStale reports, under r.mu, whether the snapshot still needs a refresh.
func (r *Refresher) stillStale() bool {
	s := r.snap.Load()
	return s != nil && s.stale(r.cfg.wall())
}

// wait returns a usable token newer than generation after, the failure still
// in backoff, or the result of the first fetch in flight to end, whichever
// comes first within ctx.
func (r *Refresher) wait(ctx context.Context, after uint64) (*oauth2.Token, uint64, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, 0, ErrClosed
	}
	now := r.cfg.now()
	if s := r.snap.Load(); s.usable(nanos(now)) && s.gen > after {
		r.mu.Unlock()
		return s.tok, s.gen, nil
	}
	r.used.Store(true)
	if len(r.calls) == 0 && r.lastErr != nil && now.Before(r.retryAt) {
		err := r.lastErr
		r.mu.Unlock()
		return nil, 0, err
	}
	if len(r.calls) == 0 {
		r.start()
	}
	var calls [2]*call
	copy(calls[:], r.calls)
	r.mu.Unlock()
	if r.cfg.observer != nil {
		return r.awaitObserved(ctx, calls, after)
	}
	return await(ctx, calls, after)
}

// awaitObserved is await that tells the observer how long the caller waited.
func (r *Refresher) awaitObserved(ctx context.Context, calls [2]*call, after uint64) (*oauth2.Token, uint64, error) {
	began := time.Now()
	tok, gen, err := await(ctx, calls, after)
	r.events.post(Event{Kind: CallerWaited, Took: time.Since(began), Err: err})
	r.events.flush(r.cfg.emit)
	return tok, gen, err
}

// await waits within ctx for the first of calls (one or two fetches) to end.
func await(ctx context.Context, calls [2]*call, after uint64) (*oauth2.Token, uint64, error) {
	var c *call
	select {
	case <-calls[0].wait():
		c = calls[0]
	case <-calls[1].wait():
		c = calls[1]
	case <-ctx.Done():
		return nil, 0, fetcherr.CallerError(ctx)
	}
	if c.err == nil && c.gen <= after {
		return nil, 0, errUnchanged
	}
	return c.tok, c.gen, c.err
}

// wait returns the channel closed when c ends; nil, which blocks, for no
// call.
func (c *call) wait() <-chan struct{} {
	if c == nil {
		return nil
	}
	return c.done
}

// start launches a fetch, and arms the timer of the next if fetches overlap.
// r.mu must be held.
func (r *Refresher) start() {
	c := &call{done: make(chan struct{})}
	r.calls = append(r.calls, c)
	r.busy.Store(true)
	r.wg.Add(1)
	go r.fetch(c, r.attempt+1, r.gen > 0)
	r.arm()
}

// fetch asks the source for a token; replacing tells it the engine holds one
// already (see Replacing).
func (r *Refresher) fetch(c *call, attempt int, replacing bool) {
	defer r.wg.Done()
	r.events.post(Event{Kind: RefreshStarted, Attempt: attempt})
	r.events.flush(r.cfg.emit)
	ctx, cancel := context.WithTimeout(engine.WithClock(r.ctx, r.cfg.now), r.cfg.fetchTimeout)
	if replacing {
		ctx = engine.WithReplacing(ctx)
	}
	began := r.cfg.elapsed() // real time: how long the provider takes is not the fake clock's business
	tok, err := r.src.TokenContext(ctx)
	took := r.cfg.elapsed() - began
	cancel()
	r.mu.Lock()
	if err == nil {
		r.times.add(took)
	}
	r.settle(c, tok, err, attempt, took)
	r.calls = slices.DeleteFunc(r.calls, func(o *call) bool { return o == c })
	r.resume()
	r.busy.Store(len(r.calls) > 0)
	close(c.done)
	r.mu.Unlock()
	r.events.flush(r.cfg.emit)
}

// settle records the outcome of a fetch. r.mu must be held.
func (r *Refresher) settle(c *call, tok *oauth2.Token, err error, attempt int, took time.Duration) {
	now := r.cfg.now()
	if err == nil {
		err = checkFetched(tok, now)
	}
	switch {
	case err != nil:
		r.failed(c, err, now, attempt, took)
	case sameToken(r.snap.Load(), tok):
		r.unchanged(c, tok, now, attempt, took)
	default:
		r.succeeded(c, tok, now, took, attempt)
	}
}

// succeeded installs tok, fetched in took, unless the token in hand expires
// later (it came from a later fetch that ended first); the call then reports
// the token in hand.
func (r *Refresher) succeeded(c *call, tok *oauth2.Token, now time.Time, took time.Duration, attempt int) {
	s := r.cfg.schedule(tok, r.gen+1, now, r.times.lead())
	if cur := r.snap.Load(); outlives(cur, s) {
		s = cur
	} else {
		r.gen = s.gen
	}
	if !r.closed {
		r.snap.Store(s)
	}
	r.lastErr, r.attempt, r.retryAt = nil, 0, time.Time{}
	c.tok, c.gen = tok, s.gen
	r.events.post(Event{Kind: RefreshSucceeded, Attempt: attempt, Generation: s.gen, Expiry: s.expiryTime, RefreshAt: s.refreshTime, Took: took})
}

// failed records err, from a fetch that took took, and schedules the next
// attempt.
func (r *Refresher) failed(c *call, err error, now time.Time, attempt int, took time.Duration) {
	err = fetcherr.Classify(err)
	if r.closed {
		err = ErrClosed
	}
	var ra time.Duration
	var fe *fetcherr.Error
	if errors.As(err, &fe) {
		ra = fe.RetryAfter
	}
	r.retryLater(c, err, now, attempt, ra)
	serving := r.snap.Load().usable(nanos(now))
	r.events.post(Event{Kind: RefreshFailed, Attempt: attempt, NextRetry: r.retryAt, Took: took, Serving: serving, Err: err})
}

// unchanged records a fetch that brought back the token in hand: no new
// generation, and a retry on the backoff schedule. If the engine's copy has
// run out meanwhile while the source still vouches for the token, what is
// left of it is served (scheduled afresh) rather than nothing.
func (r *Refresher) unchanged(c *call, tok *oauth2.Token, now time.Time, attempt int, took time.Duration) {
	if s := r.snap.Load(); now.Before(s.renewsAt) && s.usable(nanos(now)) {
		r.notYetRenewed(c, s, attempt, took)
		return
	}
	r.retryLater(c, errUnchanged, now, attempt, 0)
	r.lastErr = nil // not a failure to hand to callers: once the token runs out, they ask the source again
	if s := r.snap.Load(); !s.usable(nanos(now)) {
		s = r.cfg.schedule(tok, s.gen, now, r.times.lead())
		r.snap.Store(s)
		c.err, c.tok, c.gen = nil, s.tok, s.gen
	}
	r.events.post(Event{Kind: RefreshUnchanged, Attempt: attempt, NextRetry: r.retryAt, Took: took})
	if !r.warned {
		r.warned = true
		r.events.post(Event{Kind: SourceCachesTokens, Attempt: attempt, Err: ErrSourceCaches})
	}
}

// outlives reports whether cur, the snapshot in hand, is to be kept rather
// than replaced by s: it is served longer and no server rejected it.
func outlives(cur, s *snapshot) bool {
	return cur != nil && cur.tok != nil && !cur.demoted && cur.expiry > s.expiry
}

// notYetRenewed records a fetch, before the instant its source said it would
// renew, that brought back the token in hand (a caller's fetch, after
// Invalidate for example): the source behaves as it said, so there is no
// warning, and the next attempt waits for that instant.
func (r *Refresher) notYetRenewed(c *call, s *snapshot, attempt int, took time.Duration) {
	r.attempt, r.retryAt = attempt, s.renewsAt
	c.err, r.lastErr = errUnchanged, nil
	r.snap.Store(s.retryAt(s.renewsAt))
	r.events.post(Event{Kind: RefreshUnchanged, Attempt: attempt, NextRetry: r.retryAt, Took: took})
}

// retryLater fails the fetch with err and schedules the next attempt. A
// usable token stays; its refresh point moves to the next attempt.
func (r *Refresher) retryLater(c *call, err error, now time.Time, attempt int, retryAfter time.Duration) {
	r.attempt = attempt
	r.retryAt = now.Add(r.cfg.backoff(attempt, retryAfter))
	r.lastErr, c.err = err, err
	if s := r.snap.Load(); s.usable(nanos(now)) {
		r.snap.Store(s.retryAt(r.retryAt))
	}
}

// checkFetched refuses a token no caller could use, with the checks of
// UpdateAccessToken. Expiry is judged from Token.Expiry when the source set
// it, so a JWT's exp is checked only through expiryOf.
func checkFetched(tok *oauth2.Token, now time.Time) error {
	if tok == nil || tok.AccessToken == "" {
		return fetcherr.Unavailable("tokensource", "token source returned no access token", nil)
	}
	if _, err := check(tok.AccessToken, time.Time{}); err != nil {
		return fetcherr.Unavailable("tokensource", "token source returned an unusable access token: "+err.Error(), err)
	}
	if exp := expiryOf(tok); !exp.IsZero() && !exp.After(now) {
		return fetcherr.Unavailable("tokensource", "token source returned a token that has already expired (check the clocks)", nil)
	}
	return nil
}
