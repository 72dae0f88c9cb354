// Package engine is the plumbing between the refresh engine of package
// tokensource and the packages that use it: the generation protocol a
// connection's retry relies on, and the values a fetch's context carries.
// It is set up by package tokensource, which no package here needs to import
// for it: a refresh engine exists only if tokensource is linked.
package engine

import (
	"context"
	"time"

	"golang.org/x/oauth2"
)

// ContextSource is a token source that honours a context.
type ContextSource interface {
	oauth2.TokenSource
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

type contextFunc func(ctx context.Context) (*oauth2.Token, error)

func (f contextFunc) Token() (*oauth2.Token, error) { return f(context.Background()) }

func (f contextFunc) TokenContext(ctx context.Context) (*oauth2.Token, error) { return f(ctx) }

// AsContext returns src as a ContextSource. A plain oauth2.TokenSource cannot
// be cancelled; its Token method is called as is and the context is ignored.
func AsContext(src oauth2.TokenSource) ContextSource {
	if c, ok := src.(ContextSource); ok {
		return c
	}
	return contextFunc(func(context.Context) (*oauth2.Token, error) { return src.Token() })
}

// Generational is a source whose tokens are numbered: the refresh engine, and
// an application-supplied token.
type Generational interface {
	// TokenGeneration returns a token and its generation. If after is not 0,
	// the token is of a later generation than after: a caller whose call was
	// rejected with generation after waits for the replacement that
	// Invalidate started, while other callers keep the old token.
	TokenGeneration(ctx context.Context, after uint64) (*oauth2.Token, uint64, error)
	// Invalidate reports that a server rejected the token of generation gen,
	// and whether a call rejected with it is worth resending.
	Invalidate(gen uint64) bool
	// Generation identifies the current token; 0 before the first.
	Generation() uint64
	// Expiry is when the current token stops being served, or the zero time.
	Expiry() time.Time
}

// Retain records one more Connection holding the engine ts and returns what
// that connection calls when it closes: the engine stops when its last holder
// releases it. ok is false if the engine is already closed. For a source that
// is not an engine, release does nothing. Package tokensource sets it.
var Retain = func(ts oauth2.TokenSource) (release func(), ok bool) { return func() {}, true }

// Prefetch starts the engine ts's first fetch in the background, if it holds
// no token and has no fetch in flight or failure in backoff, without a
// caller waiting for it. Package tokensource sets it.
var Prefetch = func(ts oauth2.TokenSource) {}

// UserToken returns a token for the user whose incoming token is incoming,
// from users (a *tokensource.PerUser), with the engine that serves that user
// and the token's generation there. If past is that engine, the token is of
// a later generation than after: the call is being resent because the token
// of generation after was rejected. Package tokensource sets it.
var UserToken func(ctx context.Context, users any, incoming string, past Generational, after uint64) (*oauth2.Token, Generational, uint64, error)

// NewExternalWithClock makes a *tokensource.External that judges expiry by
// now, for tests that move the clock. Package tokensource sets it.
var NewExternalWithClock func(token string, now func() time.Time) (oauth2.TokenSource, error)

// Of returns the generation protocol of ts, if ts has one. Package tokensource
// sets it.
var Of = func(ts oauth2.TokenSource) (Generational, bool) { return nil, false }

// FetchTimeouter is a source whose fetches need a timeout other than the
// engine's default, such as a person signing in (minutes, not seconds). The
// engine starts from its value; tokensource.WithFetchTimeout still
// overrides it. Sources return their concrete type behind an interface, so
// the method stays out of their package's documentation.
type FetchTimeouter interface {
	EngineFetchTimeout() time.Duration
}

// RenewsAtKey is the oauth2.Token Extra key under which a source that
// caches tokens by nature (a CLI, IMDS) states, as a time.Time on the
// engine's clock, the instant before which it hands back this same token:
// the engine then neither asks it for a new one earlier nor takes the same
// token back for a cache of the wrong kind.
const RenewsAtKey = "grpccreds/renews_at"

// RenewsAt returns the instant a source stated under RenewsAtKey, or zero.
func RenewsAt(tok *oauth2.Token) time.Time {
	t, _ := tok.Extra(RenewsAtKey).(time.Time)
	return t
}

type (
	replacingKey struct{}
	clockKey     struct{}
)

// WithReplacing marks ctx as the context of a fetch that replaces a token.
func WithReplacing(ctx context.Context) context.Context {
	return context.WithValue(ctx, replacingKey{}, true)
}

// Replacing reports whether ctx is the context of a fetch that replaces a
// token.
func Replacing(ctx context.Context) bool {
	v, _ := ctx.Value(replacingKey{}).(bool)
	return v
}

// WithClock makes now the clock Now reports on ctx.
func WithClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// Now returns the current time on the clock of the engine whose fetch runs on
// ctx, which a test may have moved, or time.Now outside a fetch. A source that
// learns a token's expiry as a duration uses it to state that expiry on the
// engine's clock.
func Now(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now()
	}
	return time.Now()
}
