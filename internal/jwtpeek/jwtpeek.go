// Package jwtpeek reads a JWT's claims without verifying it, for the client
// side: expiry tracking and display. Its errors are fixed descriptions that
// never contain a byte of the token.
package jwtpeek

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtParser reads JWTs without verifying them. Like golang-jwt with
// WithPaddingAllowed, it accepts base64url segments with or without padding.
var jwtParser = jwt.NewParser(jwt.WithPaddingAllowed())

// The reasons a token is not a usable JWT. They are fixed texts: no byte of
// the token, and no parser message (which may quote one), ever reaches them.
var (
	errNotJWT       = errors.New("token is not a JWT (its first segment is not a header naming alg)")
	errJWTClaims    = errors.New("token is a JWT (its header names alg) but its claims do not parse")
	errJWTSignature = errors.New("token is a JWT (its header names alg) but its signature is not base64url")
	errJWTAlg       = errors.New("token is a JWT but its header names an alg that is not a known signing algorithm")
)

// IsJWT reports whether s is a JWS compact serialisation: three
// dot-separated segments, the first of which is base64url (padded or not) of a
// JSON object with a string "alg". Opaque tokens that happen to have two dots
// (Google's "ya29.c.…", PASETO's "v2.local.…") are not JWTs.
func IsJWT(s string) bool {
	head, rest, ok := strings.Cut(s, ".")
	return ok && strings.Count(rest, ".") == 1 && namesAlg(head)
}

// namesAlg reports whether seg decodes to a JSON object whose "alg" is a
// string, as a JOSE header's is.
func namesAlg(seg string) bool {
	b, err := jwtParser.DecodeSegment(seg)
	if err != nil {
		return false
	}
	var header map[string]any // as golang-jwt reads it: keys match exactly
	if json.Unmarshal(b, &header) != nil {
		return false
	}
	_, ok := header["alg"].(string)
	return ok
}

// Claims parses the claims of a JWT without verifying its signature. It is
// meant for display and for expiry tracking on the client side; a server must
// verify tokens (see package serverauth). Its error is a fixed
// description that never contains a byte of token.
func Claims(token string) (jwt.MapClaims, error) {
	if !IsJWT(token) {
		return nil, errNotJWT
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwtParser.ParseUnverified(token, claims); err != nil {
		return nil, jwtProblem(token, err)
	}
	return claims, nil
}

// Expiry returns the exp claim of token if token is a JWT that has one.
// The zero time means no expiry is known. An error means token is a JWT (see
// IsJWT) but does not parse; it is a fixed description.
func Expiry(token string) (time.Time, error) {
	if !IsJWT(token) {
		return time.Time{}, nil
	}
	var claims jwt.RegisteredClaims // decodes the registered claims only: cheaper than a map
	if _, _, err := jwtParser.ParseUnverified(token, &claims); err != nil {
		return time.Time{}, jwtProblem(token, err)
	}
	if claims.ExpiresAt == nil {
		return time.Time{}, nil
	}
	return claims.ExpiresAt.Time, nil
}

// jwtProblem names, in fixed words, why the parser refused token, a JWT whose
// header names alg. err is dropped: its text may quote bytes of the token.
func jwtProblem(token string, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errJWTAlg
	case !signatureDecodes(token):
		return errJWTSignature
	}
	return errJWTClaims
}

// signatureDecodes reports whether the last segment of token is base64url.
func signatureDecodes(token string) bool {
	_, err := jwtParser.DecodeSegment(token[strings.LastIndexByte(token, '.')+1:])
	return err == nil
}
