package tokensource

import (
	"context"
	"errors"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"golang.org/x/oauth2"
)

func (r *Refresher) refreshInBackground() {
	if !r.busy.CompareAndSwap(false, true) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.call != nil || !r.stillStale() {
		r.busy.Store(r.call != nil)
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
	case r.closed, r.call != nil, r.snap.Load() != nil,
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
// in backoff, or the result of the shared fetch, whichever comes first within
// ctx.
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
	c := r.call
	if c == nil && r.lastErr != nil && now.Before(r.retryAt) {
		err := r.lastErr
		r.mu.Unlock()
		return nil, 0, err
	}
	if c == nil {
		c = r.start()
	}
	r.mu.Unlock()
	if r.cfg.observer != nil {
		return r.awaitObserved(ctx, c, after)
	}
	return await(ctx, c, after)
}

// awaitObserved is await that tells the observer how long the caller waited.
func (r *Refresher) awaitObserved(ctx context.Context, c *call, after uint64) (*oauth2.Token, uint64, error) {
	began := time.Now()
	tok, gen, err := await(ctx, c, after)
	r.events.post(Event{Kind: CallerWaited, Took: time.Since(began), Err: err})
	r.events.flush(r.cfg.emit)
	return tok, gen, err
}

// await waits for c, a fetch, within ctx.
func await(ctx context.Context, c *call, after uint64) (*oauth2.Token, uint64, error) {
	select {
	case <-c.done:
		if c.err == nil && c.gen <= after {
			return nil, 0, errUnchanged
		}
		return c.tok, c.gen, c.err
	case <-ctx.Done():
		return nil, 0, fetcherr.CallerError(ctx)
	}
}

// start launches a fetch. r.mu must be held.
func (r *Refresher) start() *call {
	c := &call{done: make(chan struct{})}
	r.call = c
	r.busy.Store(true)
	r.wg.Add(1)
	go r.fetch(c, r.attempt+1, r.gen > 0)
	return c
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
	began := time.Now() // real time: how long the provider takes is not the fake clock's business
	tok, err := r.src.TokenContext(ctx)
	took := time.Since(began)
	cancel()
	r.mu.Lock()
	r.settle(c, tok, err, attempt, took)
	r.call = nil
	r.busy.Store(false)
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

// succeeded installs tok, fetched in took.
func (r *Refresher) succeeded(c *call, tok *oauth2.Token, now time.Time, took time.Duration, attempt int) {
	r.gen++
	s := r.cfg.schedule(tok, r.gen, now, took)
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
		s = r.cfg.schedule(tok, s.gen, now, took)
		r.snap.Store(s)
		c.err, c.tok, c.gen = nil, s.tok, s.gen
	}
	r.events.post(Event{Kind: RefreshUnchanged, Attempt: attempt, NextRetry: r.retryAt, Took: took})
	if !r.warned {
		r.warned = true
		r.events.post(Event{Kind: SourceCachesTokens, Attempt: attempt, Err: ErrSourceCaches})
	}
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
