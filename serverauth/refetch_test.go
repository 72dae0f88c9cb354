package serverauth

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
)

// A caller with a short deadline cannot waste the refetch an unknown kid
// prompts: the JWKS answers in 300 ms, the issuer has just published k2,
// and a call with a k2 token and a 50 ms deadline gives up; the refetch it
// started runs on, so the next k2 token is admitted, with that one refetch.
func TestShortDeadlineCannotStarveKeyRotation(t *testing.T) {
	j := startJWKS(t, "k1")
	v := must(NewVerifier(j.config()))
	defer v.Close()
	j.set(false, "k1", "k2") // the issuer rotates in k2
	j.slow(300 * time.Millisecond)
	before := j.requests.Load()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := v.Verify(ctx, sign("k2", baseClaims()))
	cancel()
	if code(err) != codes.DeadlineExceeded {
		t.Fatalf("the impatient call: %v, want DeadlineExceeded (its own deadline)", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := v.Verify(ctx, sign("k2", with(func(c jwt.MapClaims) { c["sub"] = "next" }))); err != nil {
		t.Fatalf("the next k2 token after the impatient call: %v", err)
	}
	if n := j.requests.Load() - before; n != 1 {
		t.Errorf("JWKS requests = %d, want the 1 refetch the first call started", n)
	}
}

// Callers that meet the same unknown kid while its refetch runs share it.
func TestConcurrentUnknownKIDShareOneRefetch(t *testing.T) {
	j := startJWKS(t, "k1")
	v := must(NewVerifier(j.config()))
	defer v.Close()
	j.set(false, "k1", "k2")
	j.slow(100 * time.Millisecond)
	before := j.requests.Load()
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, err := v.Verify(context.Background(), sign("k2", with(func(c jwt.MapClaims) { c["n"] = i })))
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := j.requests.Load() - before; n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
}

// A refetch that fails leaves the token unverifiable for a reason that is
// not the token's: Unavailable, and so for every unknown kid while the last
// fetch has failed, though the allowance is spent (the key may be one the
// issuer published meanwhile). The last good keys still verify.
func TestFailedRefetchIsUnavailable(t *testing.T) {
	j := startJWKS(t, "k1")
	v := must(NewVerifier(j.config()))
	defer v.Close()
	j.set(true)
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign("k2", baseClaims())); code(err) != codes.Unavailable {
		t.Errorf("unknown kid while the JWKS is down: %v, want Unavailable", err)
	}
	before := j.requests.Load()
	if _, err := v.Verify(ctx, sign("k3", baseClaims())); code(err) != codes.Unavailable {
		t.Errorf("unknown kid once the refetch allowance is spent, the JWKS still down: %v, want Unavailable", err)
	}
	if n := j.requests.Load() - before; n != 0 {
		t.Errorf("%d JWKS requests past the allowance", n)
	}
	if _, err := v.Verify(ctx, sign("k1", baseClaims())); err != nil {
		t.Errorf("the last good key while the JWKS is down: %v", err)
	}
}
