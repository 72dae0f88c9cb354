package tokensource

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// UserFunc fetches a token to call another service on behalf of the user
// whose incoming token is incoming: for example by [OnBehalfOf], or by
// Azure AD's on-behalf-of flow (package tokensource/azure). Its errors follow
// the rules of [Func].
type UserFunc func(ctx context.Context, incoming string) (*oauth2.Token, error)

// OnBehalfOf returns a UserFunc that trades the incoming token for one
// described by x (RFC 8693 token exchange, see [TokenExchange]), with the
// incoming token as x's subject token. x.SubjectToken must be nil.
func OnBehalfOf(ctx context.Context, cfg *clientcredentials.Config, x Exchange, opts ...ClientOption) UserFunc {
	return func(fctx context.Context, incoming string) (*oauth2.Token, error) {
		y := x
		if y.SubjectToken != nil {
			return nil, status.Error(codes.Unauthenticated, "tokensource: OnBehalfOf takes the subject token from the incoming call; leave Exchange.SubjectToken nil")
		}
		y.SubjectToken = Func(func(context.Context) (*oauth2.Token, error) { return &oauth2.Token{AccessToken: incoming}, nil })
		return TokenExchange(ctx, cfg, y, opts...)(fctx)
	}
}

// DefaultMaxUsers is the bound of a [PerUser] made with maxUsers 0.
const DefaultMaxUsers = 10000

// opaqueLife is how long a user whose incoming token is not a JWT (so has no
// expiry to read) is kept.
const opaqueLife = time.Hour

// PerUser keeps a refresh engine ([Refreshing]) per user, for a service that
// calls another on behalf of its callers: each user's token is fetched once
// and shared by that user's concurrent calls, refreshed ahead of expiry
// while in use, and retried with backoff, with the engine's codes; the
// callers of one user never wait for another user's fetch.
//
// Users are told apart by the SHA-256 of their incoming token, which is the
// map's key; the token itself stays in memory, for the user's engine to
// refresh with, while the user is kept. A user's engine is used no longer
// than the incoming token's exp (a token that is not a JWT: an hour), and
// is closed at the next new user, which also evicts the least recently used
// one if more than maxUsers are kept. A user with calls in progress is never
// evicted, so more than maxUsers are kept while more than that many users
// have calls waiting at once. An idle user costs memory only, no goroutine and no
// timer: about 1.4 KiB with a token of 1 KiB (measured by the package's
// tests, which hold it under 2 KiB). Close releases them all.
type PerUser struct {
	fetch UserFunc
	opts  []Option
	max   int
	now   func() time.Time

	mu     sync.RWMutex
	users  map[[sha256.Size]byte]*user
	closed bool
}

// user is one incoming token's engine.
type user struct {
	r     *Refresher
	until time.Time    // when the incoming token expires
	used  atomic.Int64 // last lookup, in PerUser.now nanoseconds, for eviction
	// active counts the calls inside Token for this user; such a user is
	// never evicted, so its waiting callers are not failed.
	active atomic.Int32
}

// NewPerUser returns a PerUser whose engines fetch with fetch and are made
// with opts, keeping at most maxUsers users (0: [DefaultMaxUsers]).
func NewPerUser(fetch UserFunc, maxUsers int, opts ...Option) (*PerUser, error) {
	if fetch == nil {
		return nil, errors.New("tokensource: NewPerUser needs a UserFunc")
	}
	if maxUsers < 0 {
		return nil, errors.New("tokensource: NewPerUser: maxUsers must not be negative")
	}
	cfg, err := newConfig(Func(nil), opts)
	if err != nil {
		return nil, err
	}
	if maxUsers == 0 {
		maxUsers = DefaultMaxUsers
	}
	return &PerUser{fetch: fetch, opts: opts, max: maxUsers, now: cfg.now, users: make(map[[sha256.Size]byte]*user)}, nil
}

// Token returns a token for the user whose incoming token is incoming,
// fetching one only if that user has none usable. An incoming token that is
// unusable or has expired is refused with Unauthenticated, without a fetch.
func (p *PerUser) Token(ctx context.Context, incoming string) (*oauth2.Token, error) {
	tok, _, _, err := p.token(ctx, incoming, nil, 0, true)
	return tok, err
}

// userToken is engine.UserToken.
func userToken(ctx context.Context, users any, incoming string, past engine.Generational, after uint64) (*oauth2.Token, engine.Generational, uint64, error) {
	p, ok := users.(*PerUser)
	if !ok || p == nil {
		return nil, nil, 0, status.Errorf(codes.Internal, "tokensource: %T is not a *PerUser", users)
	}
	var from *Refresher
	if g, ok := past.(refresherGen); ok {
		from = g.Refresher
	}
	tok, r, gen, err := p.token(ctx, incoming, from, after, true)
	if err != nil {
		return nil, nil, 0, err
	}
	return tok, refresherGen{r}, gen, nil
}

// token returns the token of incoming's user, the engine that serves it and
// its generation there. after applies only if that engine is from: a user
// whose engine was replaced meanwhile gets the new engine's token.
func (p *PerUser) token(ctx context.Context, incoming string, from *Refresher, after uint64, retry bool) (*oauth2.Token, *Refresher, uint64, error) {
	key := sha256.Sum256(unsafe.Slice(unsafe.StringData(incoming), len(incoming)))
	now := p.now()
	p.mu.RLock()
	u, closed := p.users[key], p.closed
	if u != nil && now.Before(u.until) {
		u.active.Add(1) // under the lock, so that evict sees it
	} else {
		u = nil
	}
	p.mu.RUnlock()
	if closed {
		return nil, nil, 0, ErrClosed
	}
	if u == nil {
		var err error
		if u, err = p.add(key, incoming, now); err != nil {
			return nil, nil, 0, err
		}
	}
	u.used.Store(now.UnixNano())
	if u.r != from {
		after = 0
	}
	tok, gen, err := u.r.tokenGeneration(ctx, after)
	u.active.Add(-1)
	if err == ErrClosed && retry {
		// Evicted between the lookup and the call: this user is in use
		// again, so it is made afresh.
		return p.token(ctx, incoming, from, after, false)
	}
	return tok, u.r, gen, err
}

// Len reports how many users are kept.
func (p *PerUser) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.users)
}

// Close stops every user's engine; Token then fails with [ErrClosed].
func (p *PerUser) Close() error {
	p.mu.Lock()
	users := p.users
	p.users, p.closed = nil, true
	p.mu.Unlock()
	for _, u := range users {
		u.r.Close()
	}
	return nil
}

// add makes the engine of the user keyed key, unless another caller has
// meanwhile, and evicts what must go.
func (p *PerUser) add(key [sha256.Size]byte, incoming string, now time.Time) (*user, error) {
	until, err := userUntil(incoming, now)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if u := p.users[key]; u != nil && now.Before(u.until) {
		u.active.Add(1)
		p.mu.Unlock()
		return u, nil
	}
	r, err := Refreshing(Func(func(ctx context.Context) (*oauth2.Token, error) { return p.fetch(ctx, incoming) }), p.opts...)
	if err != nil { // the options were checked by NewPerUser
		p.mu.Unlock()
		return nil, err
	}
	u := &user{r: r, until: until}
	u.used.Store(now.UnixNano())
	u.active.Add(1)
	old := p.users[key]
	p.users[key] = u
	gone := p.evict(now)
	p.mu.Unlock()
	if old != nil {
		gone = append(gone, old)
	}
	for _, g := range gone {
		g.r.Close()
	}
	return u, nil
}

// evict removes the users whose incoming token has expired and, if more
// than the bound are left, the least recently used, leaving alone those with
// calls in progress. It scans them all, which only a new user pays for (a
// fetch follows anyway). p.mu must be held.
func (p *PerUser) evict(now time.Time) []*user {
	type idle struct {
		key  [sha256.Size]byte
		u    *user
		used int64
	}
	var gone []*user
	var lru []idle
	for k, u := range p.users {
		switch {
		case u.active.Load() > 0:
		case !now.Before(u.until):
			gone = append(gone, u)
			delete(p.users, k)
		case len(p.users) > p.max:
			lru = append(lru, idle{k, u, u.used.Load()})
		}
	}
	slices.SortFunc(lru, func(a, b idle) int { return cmp.Compare(a.used, b.used) })
	for _, c := range lru {
		if len(p.users) <= p.max {
			break
		}
		delete(p.users, c.key)
		gone = append(gone, c.u)
	}
	return gone
}

// userUntil returns how long the user of incoming is kept, or the error
// that refuses incoming.
func userUntil(incoming string, now time.Time) (time.Time, error) {
	exp, err := check(incoming, now)
	if err != nil {
		return time.Time{}, status.Errorf(codes.Unauthenticated, "tokensource: the incoming token: %v", err)
	}
	if exp.IsZero() {
		return now.Add(opaqueLife), nil
	}
	return exp, nil
}
