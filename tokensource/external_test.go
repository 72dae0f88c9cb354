package tokensource

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// badTokens are inputs every validation must refuse.
func badTokens() map[string]string {
	return map[string]string{
		"empty":         "",
		"space":         "a b",
		"only spaces":   "   ",
		"CRLF":          "x\r\nevil: 1",
		"LF":            "abc\n",
		"tab":           "a\tb",
		"NUL":           "a\x00b",
		"DEL":           "a\x7fb",
		"non-ASCII":     "tökén",
		"bearer prefix": "Bearer abc",
		"malformed JWT": "eyJhbGciOiJSUzI1NiJ9.not-base64!.sig", // header {"alg":"RS256"}
		"expired JWT":   testjwt.Mint(time.Now().Add(-time.Minute), nil),
	}
}

func TestExternalRejectsBadTokensAndKeepsTheOld(t *testing.T) {
	good := testjwt.Mint(time.Now().Add(time.Hour), nil)
	e, err := NewExternal(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range badTokens() {
		err := e.Update(bad)
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Update = %v, want ErrInvalidToken", name, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("%s: error echoes the token: %v", name, err)
		}
		if got := mustToken(t, e); got != good {
			t.Errorf("%s: token changed after a rejected update", name)
		}
		if _, err := NewExternal(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: NewExternal = %v, want ErrInvalidToken", name, err)
		}
	}
	if g := e.cur.Load().gen; g != 1 {
		t.Fatalf("generation = %d after only rejected updates, want 1", g)
	}
}

func TestExternalSwapsAtomically(t *testing.T) {
	e, _ := NewExternal("opaque-0")
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 1000 {
			if err := e.Update(fmt.Sprintf("opaque-%d", i)); err != nil {
				t.Error(err)
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if tok := mustToken(t, e); !strings.HasPrefix(tok, "opaque-") {
					t.Errorf("torn token %q", tok)
				}
			}
		})
	}
	wg.Wait()
	if got := mustToken(t, e); got != "opaque-999" {
		t.Fatalf("final token %q", got)
	}
}

func TestExternalStopsServingAtExpiry(t *testing.T) {
	clk := clocktest.New(time.Now())
	e, err := newExternal(testjwt.Mint(clk.Now().Add(time.Minute), nil), clock{fake: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mustToken(t, e)
	clk.Advance(2 * time.Minute)
	if _, err := e.Token(); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("expired external token: %v, want Unauthenticated", err)
	}
}

func TestValidateAcceptsJWTAndOpaque(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	got, err := Validate(testjwt.Mint(exp, nil), time.Now())
	if err != nil || !got.Equal(exp) {
		t.Fatalf("JWT: exp %v err %v, want %v", got, err, exp)
	}
	if got, err := Validate("opaque.token_with-sym~bols/+=", time.Now()); err != nil || !got.IsZero() {
		t.Fatalf("opaque: %v %v", got, err)
	}
}

// Opaque tokens with two dots are not JWTs: their first segment is not a JOSE
// header naming alg.
func TestValidateAcceptsOpaqueTokensWithDots(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	for name, tok := range map[string]string{
		"Google ya29, two dots":   "ya29.c.Kp8BAgj0YZf3mC1rQ-_xW9v2LhTz8sNdE4uJkR7pB6aFoXyI",
		"Google ya29, three dots": "ya29.c.b0Aaekm1KxS8nR2vQ-_x.y",
		"PASETO, no footer":       "v2.local." + b64([]byte("nonce-and-ciphertext-0123456789abcdef")),
		"PASETO with footer":      "v2.local." + b64([]byte("nonce-and-ciphertext")) + "." + b64([]byte(`{"kid":"k1"}`)),
		"PASETO v4 public":        "v4.public." + b64([]byte("message-and-signature-0123456789")),
		"JSON head without alg":   b64([]byte(`{"typ":"JWT"}`)) + ".x.y",
		"JSON head, numeric alg":  b64([]byte(`{"alg":5}`)) + ".x.y",
		"JSON array head":         b64([]byte(`["alg"]`)) + ".x.y",
	} {
		if exp, err := Validate(tok, time.Now()); err != nil || !exp.IsZero() {
			t.Errorf("%s: Validate = %v, %v; want accepted with no expiry", name, exp, err)
		}
		if _, err := NewExternal(tok); err != nil {
			t.Errorf("%s: NewExternal: %v", name, err)
		}
	}
}

// A JWT with padded segments is still recognised and read, as golang-jwt
// reads it with WithPaddingAllowed.
func TestValidateReadsAPaddedJWT(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	head := base64.URLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	claims := base64.URLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d}`, exp.Unix())))
	if !strings.HasSuffix(head, "=") {
		t.Fatalf("test header %q is not padded", head)
	}
	got, err := Validate(head+"."+claims+".", time.Now())
	if err != nil || !got.Equal(exp) {
		t.Fatalf("padded JWT: exp %v err %v, want %v", got, err, exp)
	}
}

// A real JWT header with broken claims is refused, and the error carries no
// part of the token: it is the same for every such token, and no 3-byte
// sequence of the token or of its decoded claims appears in it.
func TestValidateRefusesBrokenClaimsWithoutEchoingThem(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	head, _, _ := strings.Cut(testjwt.Mint(time.Now().Add(time.Hour), nil), ".")
	sig := b64([]byte("Qm9-fixed-signature-Vx7"))
	var first string
	for name, claims := range map[string]string{
		"not base64":      "Qx!Zq~Vw",
		"not JSON":        b64([]byte(`{"sub":Qx7}`)),
		"exp not numeric": b64([]byte(`{"exp":"Zq7-Xw9-Kp2"}`)),
		"unclosed object": b64([]byte(`{"oid":"Wk4`)),
	} {
		tok := head + "." + claims + "." + sig
		_, err := Validate(tok, time.Now())
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Validate = %v, want ErrInvalidToken", name, err)
			continue
		}
		msg := err.Error()
		if first == "" {
			first = msg
		} else if msg != first {
			t.Errorf("%s: the message depends on the token:\n%q\n%q", name, msg, first)
		}
		decoded, _ := base64.RawURLEncoding.DecodeString(claims)
		for _, part := range []string{tok, string(decoded)} {
			if s := sharedRun(msg, part, 3); s != "" {
				t.Errorf("%s: message %q contains %q from the token", name, msg, s)
			}
		}
	}
}

// sharedRun returns a run of n bytes of part that occurs in msg, or "".
func sharedRun(msg, part string, n int) string {
	for i := 0; i+n <= len(part); i++ {
		if strings.Contains(msg, part[i:i+n]) {
			return part[i : i+n]
		}
	}
	return ""
}
