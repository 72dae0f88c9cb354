package tokensource

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// looksLikeJWT reports whether s has the three dot-separated segments of a
// JWS compact serialisation.
func looksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }

// ParseClaims parses the claims of a JWT without verifying its signature. It
// is meant for display and for expiry tracking on the client side; a server
// must verify tokens (see package creds/jwtauth).
func ParseClaims(token string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// jwtExpiry returns the exp claim of token if token is a JWT that has one.
// The zero time means no expiry is known. An error means token looks like a JWT
// but does not parse.
func jwtExpiry(token string) (time.Time, error) {
	if !looksLikeJWT(token) {
		return time.Time{}, nil
	}
	var claims jwt.RegisteredClaims // decodes the registered claims only: cheaper than a map
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		return time.Time{}, err
	}
	if claims.ExpiresAt == nil {
		return time.Time{}, nil
	}
	return claims.ExpiresAt.Time, nil
}

// expiryOf returns when tok expires: Token.Expiry, or else the JWT exp claim,
// or else the zero time (no expiry known).
func expiryOf(tok *oauth2.Token) time.Time {
	if !tok.Expiry.IsZero() {
		return tok.Expiry
	}
	exp, _ := jwtExpiry(tok.AccessToken)
	return exp
}
