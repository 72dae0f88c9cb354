package tokensource

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrClosed is returned by a [Refresher] after Close.
var ErrClosed = status.Error(codes.Unavailable, "tokensource: token source is closed")

func init() {
	engine.Of = generational
	engine.Retain = func(ts oauth2.TokenSource) (func(), bool) {
		if r, ok := ts.(*Refresher); ok {
			return r.retain()
		}
		return func() {}, true
	}
	engine.Prefetch = func(ts oauth2.TokenSource) {
		if r, ok := ts.(*Refresher); ok {
			r.prefetch()
		}
	}
	engine.UserToken = userToken
	engine.NewExternalWithClock = func(token string, now func() time.Time) (oauth2.TokenSource, error) {
		return newExternal(token, clock{fake: now})
	}
}

// generational gives package engine the generation protocol of the sources
// of this package that have one.
func generational(ts oauth2.TokenSource) (engine.Generational, bool) {
	switch s := ts.(type) {
	case *Refresher:
		return refresherGen{s}, true
	case *External:
		return externalGen{s}, true
	}
	return nil, false
}

type refresherGen struct{ *Refresher }

func (r refresherGen) TokenGeneration(ctx context.Context, after uint64) (*oauth2.Token, uint64, error) {
	return r.tokenGeneration(ctx, after)
}
func (r refresherGen) Invalidate(gen uint64) bool { return r.invalidate(gen) }
func (r refresherGen) Generation() uint64         { return r.generation() }
func (r refresherGen) Expiry() time.Time          { return r.expiry() }

type externalGen struct{ *External }

func (e externalGen) TokenGeneration(ctx context.Context, after uint64) (*oauth2.Token, uint64, error) {
	c := e.cur.Load()
	if err := e.check(c); err != nil {
		return nil, 0, err
	}
	if c.gen <= after {
		return nil, 0, status.Error(codes.Unauthenticated, "tokensource: the application has not supplied a newer token")
	}
	return c.tok, c.gen, nil
}
func (e externalGen) Invalidate(uint64) bool { return false }
func (e externalGen) Generation() uint64     { return e.cur.Load().gen }
func (e externalGen) Expiry() time.Time      { return e.cur.Load().expireAt }

// Refresher is the refresh engine: a caching [ContextTokenSource] in front of
// a slower one. Create it with [Refreshing]; the zero value is not usable.
//
// A cached token is in one of three states:
//   - fresh: served at once;
//   - stale (past its refresh point): served at once, and exactly one
//     background refresh starts;
//   - expired (or none yet): callers wait for one shared fetch, each only as
//     long as its own context allows.
//
// The refresh point leaves time for a fetch, judged by the spread of recent
// fetch durations, and a margin. A token that barely outlives a fetch (a
// 60 ms token from a 50 ms endpoint) cannot be replaced in time by a fetch
// that starts when it arrives: then, while callers ask for tokens, each fetch
// starts on a timer before the one in flight ends, two at most, so that every
// new token arrives a margin before the old one stops being served.
//
// Expiry and refresh points are judged by the wall clock, as servers judge a
// token's exp, so a machine that wakes from sleep refreshes (or waits for) a
// token that expired while it slept.
//
// Reads of a fresh or stale token take no lock and allocate nothing. A failed
// fetch never replaces a usable token; it is retried with capped exponential
// backoff and jitter. While a failure's backoff runs and no usable token
// exists, callers get that failure at once rather than hammering the provider.
//
// A fetch must bring a different token: a source that hands back the token the
// engine already holds (because it caches tokens itself, as
// oauth2.ReuseTokenSource and clientcredentials.Config.TokenSource do) has not
// refreshed anything. The engine keeps the generation, retries on its backoff
// schedule until a different token arrives or the old one expires, and warns
// once ([SourceCachesTokens], [ErrSourceCaches]). Give the engine un-cached
// sources, such as [ClientCredentials]; the MSAL sources of package
// tokensource/azure ask the identity provider for a new token whenever the engine replaces one (see
// [Replacing]). Sources that cache by nature and cannot be told not to (the
// az, azd and IMDS sources of tokensource/azure) say with each token when
// they will have a new one; the engine refreshes then, not earlier (still
// before the token stops being served), and does not warn.
type Refresher struct {
	src  ContextTokenSource
	cfg  config
	snap atomic.Pointer[snapshot]
	busy atomic.Bool // a fetch is in flight
	used atomic.Bool // the token was asked for since the engine last started an overlapping fetch (see fetchTimes)

	mu          sync.Mutex
	calls       []*call // the fetches in flight, oldest first; at most 2 (see fetchTimes)
	times       fetchTimes
	timer       stopper // starts the next overlapping fetch, when armed
	gen         uint64
	lastErr     error // the last failure, until a fetch succeeds
	retryAt     time.Time
	attempt     int
	invalidN    int       // invalidations since the last quiet period
	invalidNext time.Time // the earliest next invalidation
	warned      bool      // SourceCachesTokens was sent
	closed      bool
	holders     int // the Connections holding the engine; the last to release it closes it

	events eventQueue
	ctx    context.Context // detached from every caller; canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type call struct {
	done chan struct{}
	tok  *oauth2.Token
	gen  uint64
	err  error
}

// Refreshing puts the refresh engine in front of src. Call Close to stop it.
//
// It fails if src is nil or already serves tokens itself (a *Refresher or an
// [*External]: use it as is), or if an option is out of range.
//
// Prefer sources that implement [ContextTokenSource] (everything in this
// package, including [ClientCredentials]): the engine can then cancel a hung
// fetch. The engine gives up on any fetch when its timeout passes or Close is
// called; a source that ignores its context is left to finish on its own
// goroutine, and its result is dropped.
//
// Do not give the engine a source that caches tokens itself (see
// [Refresher]).
func Refreshing(src oauth2.TokenSource, opts ...Option) (*Refresher, error) {
	switch src.(type) {
	case nil:
		return nil, errors.New("tokensource: Refreshing needs a token source, got nil")
	}
	if v := reflect.ValueOf(src); (v.Kind() == reflect.Pointer || v.Kind() == reflect.Func) && v.IsNil() {
		return nil, fmt.Errorf("tokensource: Refreshing needs a token source, got a nil %T", src)
	}
	switch src.(type) {
	case *Refresher:
		return nil, errors.New("tokensource: the source is already a refresh engine; use it as is")
	case *External:
		return nil, errors.New("tokensource: an External serves its token itself and needs no engine; use it as is")
	}
	cfg, err := newConfig(src, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Refresher{src: detach(engine.AsContext(src)), cfg: cfg, ctx: ctx, cancel: cancel}, nil
}

// Token returns a usable token, waiting for a fetch if there is none.
func (r *Refresher) Token() (*oauth2.Token, error) { return r.TokenContext(context.Background()) }

// TokenContext returns a usable token. If it must wait for a fetch, it waits
// only until ctx is done and then returns a DeadlineExceeded or Canceled status
// error; the fetch goes on for other callers. Callers must not modify the
// returned token.
func (r *Refresher) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	tok, _, err := r.tokenGeneration(ctx, 0)
	return tok, err
}

// tokenGeneration is TokenContext that also returns the token's generation
// (see engine.Generational).
func (r *Refresher) tokenGeneration(ctx context.Context, after uint64) (*oauth2.Token, uint64, error) {
	if s := r.snap.Load(); s != nil && s.gen > after {
		t := r.cfg.wall()
		if s.usable(t) {
			if s.stale(t) {
				r.servedStale()
			}
			return s.tok, s.gen, nil
		}
	}
	return r.wait(ctx, after)
}

// generation identifies the cached token: it grows by one with every fetch
// that brings a new token and is 0 before the first.
func (r *Refresher) generation() uint64 {
	if s := r.snap.Load(); s != nil {
		return s.gen
	}
	return 0
}

// expiry is when the engine stops serving the cached token (its expiry less
// the leeway), or the zero time if there is none or it never expires.
func (r *Refresher) expiry() time.Time {
	if s := r.snap.Load(); s != nil {
		return s.expiryTime
	}
	return time.Time{}
}

// Close stops the engine: it cancels the fetches in flight and returns once the
// engine's goroutines have stopped, which does not wait for a source that
// ignores its context. Later calls fail with [ErrClosed]. Close is idempotent.
func (r *Refresher) Close() error {
	r.mu.Lock()
	r.closed = true
	r.snap.Store(nil)
	r.disarm()
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// String describes the engine without its token.
func (r *Refresher) String() string {
	s := r.snap.Load()
	if s == nil || s.tok == nil {
		return fmt.Sprintf("tokensource.Refresher{generation: %d, token: none}", r.generation())
	}
	return fmt.Sprintf("tokensource.Refresher{generation: %d, expiry: %s, refreshAt: %s}",
		s.gen, s.expiryTime.Format(time.RFC3339), s.refreshTime.Format(time.RFC3339))
}

// GoString is String, so %#v neither prints the token nor reads the engine's
// state without its locks.
func (r *Refresher) GoString() string { return r.String() }

// retain adds a holder (see engine.Retain).
func (r *Refresher) retain() (func(), bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false
	}
	r.holders++
	var once sync.Once
	return func() { once.Do(r.release) }, true
}

// release drops a holder and closes the engine when it was the last.
func (r *Refresher) release() {
	r.mu.Lock()
	r.holders--
	last := r.holders == 0
	r.mu.Unlock()
	if last {
		r.Close()
	}
}
