package tokensource

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Refresher is the refresh engine: a caching [ContextTokenSource] in front of
// a slower one. Create it with [Refreshing].
//
// A cached token is in one of three states:
//   - fresh: served at once;
//   - stale (past its refresh point): served at once, and exactly one
//     background refresh starts;
//   - expired (or none yet): callers wait for one shared fetch, each only as
//     long as its own context allows.
//
// Reads of a fresh or stale token take no lock and allocate nothing. A failed
// fetch never replaces a usable token; it is retried with capped exponential
// backoff and jitter. While a failure's backoff runs and no usable token
// exists, callers get that failure at once rather than hammering the provider.
type Refresher struct {
	src  ContextTokenSource
	cfg  config
	snap atomic.Pointer[snapshot]
	busy atomic.Bool // a fetch is in flight

	mu      sync.Mutex
	call    *call // the fetch in flight, if any
	gen     uint64
	lastErr error // the last failure, until a fetch succeeds
	retryAt time.Time
	attempt int
	closed  bool

	ctx    context.Context // detached from every caller; canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type call struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// Refreshing wraps src in the refresh engine. If src already is a *Refresher it
// is returned as is and opts are ignored. Call Close to stop it.
//
// Prefer sources that implement [ContextTokenSource] (everything in this
// package, including [ClientCredentials]): the engine can then cancel a hung
// fetch. A plain oauth2.TokenSource cannot be interrupted; when its fetch times
// out or the engine closes, its Token call is abandoned and finishes on its own
// goroutine.
func Refreshing(src oauth2.TokenSource, opts ...Option) *Refresher {
	if r, ok := src.(*Refresher); ok {
		return r
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Refresher{src: detachable(src), cfg: newConfig(opts), ctx: ctx, cancel: cancel}
}

// Token returns a usable token, waiting for a fetch if there is none.
func (r *Refresher) Token() (*oauth2.Token, error) { return r.TokenContext(context.Background()) }

// TokenContext returns a usable token. If it must wait for a fetch, it waits
// only until ctx is done and then returns a DeadlineExceeded or Canceled status
// error; the fetch goes on for other callers. Callers must not modify the
// returned token.
func (r *Refresher) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if s := r.snap.Load(); s != nil {
		t := r.cfg.tick()
		if s.usable(t) {
			if s.stale(t) && !r.busy.Load() {
				r.refreshInBackground()
			}
			return s.tok, nil
		}
	}
	return r.wait(ctx)
}

// Generation identifies the cached token: it grows by one with every
// successful fetch and is 0 before the first. Pass it to Invalidate.
func (r *Refresher) Generation() uint64 {
	if s := r.snap.Load(); s != nil {
		return s.gen
	}
	return 0
}

// Invalidate discards the cached token if it is still generation gen, and
// starts a fetch. Use it after a server answered Unauthenticated to a call made
// with that generation: many concurrent failures with the same generation
// cause a single fetch, and a generation already replaced is ignored.
func (r *Refresher) Invalidate(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.snap.Load()
	if r.closed || s == nil || s.gen != gen || s.tok == nil {
		return
	}
	r.snap.Store(&snapshot{gen: gen})
	r.retryAt = time.Time{}
	if r.call == nil {
		r.start()
	}
}

// Close stops the engine: it cancels a fetch in flight and waits for it to
// return. Later calls fail with [ErrClosed]. Close is idempotent.
func (r *Refresher) Close() error {
	r.mu.Lock()
	r.closed = true
	r.snap.Store(nil)
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// String describes the engine without its token.
func (r *Refresher) String() string {
	s := r.snap.Load()
	if s == nil || s.tok == nil {
		return fmt.Sprintf("tokensource.Refresher{generation: %d, token: none}", r.Generation())
	}
	return fmt.Sprintf("tokensource.Refresher{generation: %d, expiry: %s, refreshAt: %s}",
		s.gen, s.expiryTime.Format(time.RFC3339), s.refreshTime.Format(time.RFC3339))
}

// GoString is String, so %#v cannot print the token either.
func (r *Refresher) GoString() string { return r.String() }

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

// stillStale reports, under r.mu, whether the snapshot still needs a refresh.
func (r *Refresher) stillStale() bool {
	s := r.snap.Load()
	return s != nil && s.stale(r.cfg.tick())
}

// wait returns a usable token, the failure still in backoff, or the result of
// the shared fetch, whichever comes first within ctx.
func (r *Refresher) wait(ctx context.Context) (*oauth2.Token, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	now := r.cfg.now()
	if s := r.snap.Load(); s.usable(r.cfg.since(now)) {
		r.mu.Unlock()
		return s.tok, nil
	}
	c := r.call
	if c == nil && r.lastErr != nil && now.Before(r.retryAt) {
		err := r.lastErr
		r.mu.Unlock()
		return nil, err
	}
	if c == nil {
		c = r.start()
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return c.tok, c.err
	case <-ctx.Done():
		return nil, CallerError(ctx)
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

func (r *Refresher) fetch(c *call, attempt int, replacing bool) {
	defer r.wg.Done()
	r.cfg.emit(Event{Kind: RefreshStarted, Attempt: attempt})
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.fetchTimeout)
	if replacing {
		ctx = withReplacing(ctx)
	}
	began := time.Now() // real time: how long the provider takes is not the fake clock's business
	tok, err := r.src.TokenContext(ctx)
	took := time.Since(began)
	cancel()
	r.mu.Lock()
	now := r.cfg.now()
	if err == nil {
		err = checkFetched(tok, now)
	}
	var ev Event
	if err != nil {
		ev = r.failed(c, err, now)
	} else {
		ev = r.succeeded(c, tok, now, took)
	}
	r.call = nil
	r.busy.Store(false)
	close(c.done)
	r.mu.Unlock()
	r.cfg.emit(ev)
}

// succeeded installs tok, fetched in took. r.mu must be held.
func (r *Refresher) succeeded(c *call, tok *oauth2.Token, now time.Time, took time.Duration) Event {
	r.gen++
	s := r.cfg.schedule(tok, r.gen, now, took)
	if !r.closed {
		r.snap.Store(s)
	}
	r.lastErr, r.attempt, r.retryAt = nil, 0, time.Time{}
	c.tok = tok
	return Event{Kind: RefreshSucceeded, Attempt: 1, Generation: s.gen, Expiry: s.expiryTime, RefreshAt: s.refreshTime}
}

// failed records err and schedules the next attempt. A usable token stays;
// its refresh point moves to the next attempt. r.mu must be held.
func (r *Refresher) failed(c *call, err error, now time.Time) Event {
	err = Classify(err)
	if r.closed {
		err = ErrClosed
	}
	r.attempt++
	var ra time.Duration
	var fe *FetchError
	if errors.As(err, &fe) {
		ra = fe.RetryAfter
	}
	r.retryAt = now.Add(r.cfg.backoff(r.attempt, ra))
	r.lastErr, c.err = err, err
	if s := r.snap.Load(); s.usable(r.cfg.since(now)) {
		next := *s
		next.refreshAt, next.refreshTime = r.cfg.since(r.retryAt), r.retryAt
		r.snap.Store(&next)
	}
	return Event{Kind: RefreshFailed, Attempt: r.attempt, NextRetry: r.retryAt, Err: err}
}

// checkFetched refuses a token no caller could use.
func checkFetched(tok *oauth2.Token, now time.Time) error {
	if tok == nil || tok.AccessToken == "" {
		return Unavailable("token source returned no access token", nil)
	}
	if exp := expiryOf(tok); !exp.IsZero() && !exp.After(now) {
		return Unavailable("token source returned a token that has already expired (check the clocks)", nil)
	}
	return nil
}
