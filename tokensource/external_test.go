package tokensource

import (
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
		"malformed JWT": "eyJhbGciOi.not-base64!.sig",
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
	if g := e.Generation(); g != 1 {
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
	e, err := NewExternal(testjwt.Mint(clk.Now().Add(time.Minute), nil), WithClock(clk.Now))
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
