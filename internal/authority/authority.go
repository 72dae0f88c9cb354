// Package authority is an embedded token issuer for examples and tests: it
// signs RS256 JWTs shaped like Azure AD access tokens (roles, name, oid, aud).
package authority

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Authority signs access tokens with its own RSA key.
type Authority struct {
	Issuer   string
	Audience string
	KeyID    string
	key      *rsa.PrivateKey
	serial   atomic.Int64
}

// Identity is whom a token is issued to.
type Identity struct {
	Name  string
	OID   string
	Roles []string
}

// New creates an authority with a fresh 2048-bit RSA key.
func New(issuer, audience string) (*Authority, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Authority{Issuer: issuer, Audience: audience, KeyID: "key-1", key: key}, nil
}

// PublicKey returns the key that verifies this authority's tokens.
func (a *Authority) PublicKey() *rsa.PublicKey { return &a.key.PublicKey }

// Issue signs a token for id that is valid from now for lifetime (a negative
// lifetime gives an already expired token).
func (a *Authority) Issue(id Identity, lifetime time.Duration) (string, error) {
	return a.sign(id, lifetime, time.Time{})
}

// sign is Issue for a token whose iat and nbf are not before notBefore (zero:
// no such demand), as a client's claims request can ask.
func (a *Authority) sign(id Identity, lifetime time.Duration, notBefore time.Time) (string, error) {
	return a.signFor(id, a.Audience, lifetime, notBefore)
}

// signFor is sign for a token whose aud is audience.
func (a *Authority) signFor(id Identity, audience string, lifetime time.Duration, notBefore time.Time) (string, error) {
	now := time.Now()
	iat := now.Unix()
	nbf := now.Add(-time.Minute).Unix()
	if !notBefore.IsZero() {
		iat, nbf = max(iat, notBefore.Unix()), max(nbf, notBefore.Unix())
	}
	claims := jwt.MapClaims{
		"iss":   a.Issuer,
		"aud":   audience,
		"sub":   id.OID,
		"oid":   id.OID,
		"name":  id.Name,
		"roles": id.Roles,
		"iat":   iat,
		"nbf":   nbf,
		"exp":   now.Add(lifetime).Unix(),
		"jti":   fmt.Sprintf("t%d", a.serial.Add(1)),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = a.KeyID
	return t.SignedString(a.key)
}
