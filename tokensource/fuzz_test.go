package tokensource

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/header"
	"github.com/grpccreds/grpccreds/internal/testjwt"
)

// FuzzValidate: any input is either refused with an ErrInvalidToken that does
// not echo it, or is safe to put in a header.
func FuzzValidate(f *testing.F) {
	f.Add("opaque-token")
	f.Add("x\r\nevil: 1")
	f.Add(testjwt.Mint(time.Now().Add(time.Hour), nil))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.sig")
	now := time.Now()
	f.Fuzz(func(t *testing.T, token string) {
		_, err := Validate(token, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error does not wrap ErrInvalidToken: %v", err)
			}
			if len(token) >= 8 && strings.Contains(err.Error(), token) {
				t.Fatalf("error echoes the token: %v", err)
			}
			return
		}
		if herr := header.CheckValue(token); herr != nil {
			t.Fatalf("accepted a token unfit for a header: %v", herr)
		}
	})
}

// FuzzClaims: expiry and claims extraction never panic, and agree on whether
// the input parses.
func FuzzClaims(f *testing.F) {
	f.Add(testjwt.Mint(time.Now().Add(time.Hour), nil))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOiJub3QgYSBudW1iZXIifQ.")
	f.Fuzz(func(t *testing.T, token string) {
		_, expErr := jwtExpiry(token)
		_, claimsErr := ParseClaims(token)
		if looksLikeJWT(token) && expErr == nil && claimsErr != nil {
			t.Fatalf("exp parsed but claims did not: %v", claimsErr)
		}
	})
}
