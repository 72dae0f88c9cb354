package tokensource

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// External holds an access token supplied by the application, for deployments
// where another component obtains tokens. It validates each token, swaps it
// atomically and tracks its expiry.
//
// Reads are lock-free. Once the token's exp passes on the wall clock, Token
// returns an Unauthenticated error until Update supplies a new one.
//
// An External needs no refresh engine, and [Refreshing] refuses one. Create it
// with [NewExternal]; the zero value is not usable.
type External struct {
	clock clock
	mu    sync.Mutex // serialises Update
	cur   atomic.Pointer[external]
	gens  uint64
}

type external struct {
	tok      *oauth2.Token
	expiry   int64 // Unix ns; never if the token has no exp
	expireAt time.Time
	gen      uint64
}

// NewExternal validates token (see [Validate]) and returns a source that serves
// it.
func NewExternal(token string) (*External, error) { return newExternal(token, clock{}) }

func newExternal(token string, c clock) (*External, error) {
	e := &External{clock: c}
	if err := e.Update(token); err != nil {
		return nil, err
	}
	return e, nil
}

// Update validates token and, if it is acceptable, swaps it in atomically. New
// calls to Token see the new token at once. On error the previous token stays
// in force. The error never contains the token.
func (e *External) Update(token string) error {
	now := e.clock.now()
	exp, err := Validate(token, now)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gens++
	tok := &oauth2.Token{AccessToken: token, TokenType: "Bearer", Expiry: exp}
	e.cur.Store(&external{tok: tok, expiry: nanos(exp), expireAt: exp, gen: e.gens})
	return nil
}

// Token returns the current token.
func (e *External) Token() (*oauth2.Token, error) { return e.TokenContext(context.Background()) }

// TokenContext returns the current token, or an Unauthenticated status error if
// it has expired. It never blocks.
func (e *External) TokenContext(context.Context) (*oauth2.Token, error) {
	c := e.cur.Load()
	if err := e.check(c); err != nil {
		return nil, err
	}
	return c.tok, nil
}

// check refuses c once its token has expired.
func (e *External) check(c *external) error {
	if e.clock.wall() >= c.expiry {
		return status.Errorf(codes.Unauthenticated,
			"tokensource: external access token expired at %s; supply a new one", c.expireAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// String describes the source without its token.
func (e *External) String() string {
	return fmt.Sprintf("tokensource.External{generation: %d}", e.cur.Load().gen)
}

// GoString is String, so %#v neither prints the token nor reads the source's
// state without its lock.
func (e *External) GoString() string { return e.String() }
