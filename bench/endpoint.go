// Package bench compares grpccreds with the libraries it replaces, side by
// side in one run: grpc-go's credentials/oauth (over oauth2.ReuseTokenSource,
// and NewOauthAccess), grpc-go's credentials/jwt (token file), and
// cloud.google.com/go/auth's cached token provider. It is a separate module so
// that those libraries stay out of grpccreds' own go.mod. Run it with
// make bench (or make bench-quick).
package bench

import (
	"sync/atomic"
	"time"

	"github.com/grpccreds/grpccreds/internal/testjwt"
)

// Endpoint stands in for an identity provider's token endpoint: each fetch
// takes Delay and returns a realistic RS256 JWT that lives Lifetime.
type Endpoint struct {
	Delay    time.Duration
	Lifetime time.Duration
	fetches  atomic.Int64
	jwt      string
}

// NewEndpoint returns an endpoint whose tokens are one pre-signed JWT (the
// expiry callers see comes from the token response, as with Azure AD).
func NewEndpoint(delay, lifetime time.Duration) *Endpoint {
	return &Endpoint{Delay: delay, Lifetime: lifetime, jwt: testjwt.Mint(time.Now().Add(24*time.Hour), nil)}
}

// Fetch simulates one token request and returns the token and its expiry.
func (e *Endpoint) Fetch() (string, time.Time) {
	e.fetches.Add(1)
	time.Sleep(e.Delay)
	return e.jwt, time.Now().Add(e.Lifetime)
}

// Fetches counts the token requests so far.
func (e *Endpoint) Fetches() int64 { return e.fetches.Load() }
