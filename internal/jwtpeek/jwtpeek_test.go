package jwtpeek

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/testjwt"
)

// Claims (behind connection.Claims) refuses broken claims with a message
// that does not depend on the token's bytes.
func TestClaimsErrorDoesNotDependOnTheToken(t *testing.T) {
	head, _, _ := strings.Cut(testjwt.Mint(time.Now().Add(time.Hour), nil), ".")
	msgs := map[string]bool{}
	for _, claims := range []string{`{"sub":Qx7}`, `{"sub":Zk4}`, `{"name":"Wj9`} {
		tok := head + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
		_, err := Claims(tok)
		if err == nil {
			t.Fatalf("claims %s parsed", claims)
		}
		msgs[err.Error()] = true
	}
	if len(msgs) != 1 {
		t.Fatalf("the messages depend on the token: %v", msgs)
	}
	if _, err := Claims("ya29.c.Kp8BAgj0YZf3mC1rQ"); err == nil || strings.Contains(err.Error(), "É") {
		t.Fatalf("opaque token: %v", err)
	}
}

// Each way a JWT can be broken has its own fixed reason.
func TestJWTReasons(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	head := b64([]byte(`{"alg":"RS256"}`))
	for _, tc := range []struct {
		token string
		want  error
	}{
		{"ya29.c.Kp8BAgj0YZf3mC1rQ", errNotJWT},
		{head + ".Qx!Zq~Vw." + b64([]byte("sig")), errJWTClaims},
		{head + "." + b64([]byte(`{"exp":"Zq7"}`)) + "." + b64([]byte("sig")), errJWTClaims},
		{head + "." + b64([]byte(`{}`)) + ".Qx!Zq", errJWTSignature},
		{b64([]byte(`{"alg":"XY9"}`)) + "." + b64([]byte(`{}`)) + ".c2ln", errJWTAlg},
	} {
		_, err := Claims(tc.token)
		if tc.want == errJWTClaims {
			_, err = Expiry(tc.token) // MapClaims take any exp; RegisteredClaims do not
		}
		if err != tc.want {
			t.Errorf("%s: %v, want %v", tc.token, err, tc.want)
		}
	}
}

// FuzzClaims: expiry and claims extraction never panic, agree on whether the
// input parses, and fail only with fixed reasons.
func FuzzClaims(f *testing.F) {
	f.Add(testjwt.Mint(time.Now().Add(time.Hour), nil))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOiJub3QgYSBudW1iZXIifQ.")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOlF4N30.") // {"sub":Qx7}
	f.Fuzz(func(t *testing.T, token string) {
		_, expErr := Expiry(token)
		_, claimsErr := Claims(token)
		if IsJWT(token) && expErr == nil && claimsErr != nil {
			t.Fatalf("exp parsed but claims did not: %v", claimsErr)
		}
		for _, err := range []error{expErr, claimsErr} {
			if err != nil && !isJWTReason(err) {
				t.Fatalf("error is not a fixed reason, so it may carry token bytes: %q", err)
			}
		}
	})
}

// isJWTReason reports whether err is exactly one of this package's fixed reasons.
func isJWTReason(err error) bool {
	for _, r := range []error{errNotJWT, errJWTClaims, errJWTAlg, errJWTSignature} {
		if err == r {
			return true
		}
	}
	return false
}
