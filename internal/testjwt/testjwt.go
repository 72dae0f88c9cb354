// Package testjwt mints RS256 JWTs shaped like Azure AD access tokens, for
// tests and benchmarks, with one process-wide grpccredstest.Signer.
package testjwt

import (
	"crypto/rsa"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/programtb"
)

// Issuer and Audience are the iss and aud of every minted token.
const (
	Issuer   = "https://login.example.test/00000000-0000-0000-0000-000000000000/v2.0"
	Audience = "api://grpccreds-test"
)

// signer is built with a program's testing.TB: it is shared by every test
// and benchmark of the process, and has nothing to clean up.
var signer = sync.OnceValue(func() *grpccredstest.Signer {
	s := grpccredstest.NewSigner(programtb.New(), Issuer, Audience)
	s.KeyID = "test-key-1"
	return s
})

// PublicKey returns the key that verifies every minted token.
func PublicKey() *rsa.PublicKey { return signer().PublicKey }

// Mint returns a signed token that expires at exp (no exp claim if exp is
// zero), with the claims of a typical Azure AD access token plus extra.
func Mint(exp time.Time, extra jwt.MapClaims) string {
	c := grpccredstest.Claims{
		Identity: grpccredstest.Identity{Name: "Test User", OID: "6f1d2c1e-0b7a-4c55-9d1e-3a6b2f0c9e11", Roles: []string{"Reader", "Trader"}},
		Expiry:   exp,
		Extra: map[string]any{"azp": "9c1f7a52-3b0e-4d1a-8f44-0e5d6c7b8a90",
			"tid": "00000000-0000-0000-0000-000000000000", "ver": "2.0", "jti": nil},
	}
	if exp.IsZero() {
		c.Extra["exp"] = nil
	}
	for k, v := range extra {
		c.Extra[k] = v
	}
	s, err := signer().Mint(c)
	if err != nil {
		panic(err)
	}
	return s
}
