package serverauth

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// The observer hears every check's outcome and cache lookup, and nothing of
// the token or its claims.
func TestObserverHearsOutcomeAndCacheLookup(t *testing.T) {
	var seen []VerifyEvent
	cfg := staticConfig("k1")
	cfg.MethodRoles = map[string][]string{"/pkg.S/Admin": {"Admin"}}
	cfg.Observer = func(e VerifyEvent) { seen = append(seen, e) }
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	token := sign("k1", baseClaims())
	call := func(auth, method string) {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", auth))
		v.check(ctx, method, nil)
	}
	call("Bearer "+token, "/pkg.S/M")
	call("Bearer "+token, "/pkg.S/M")
	call("Bearer "+token, "/pkg.S/Admin")
	call("Bearer not-a-jwt", "/pkg.S/M")
	call("Basic x", "/pkg.S/M")
	want := []VerifyEvent{
		{codes.OK, CacheMiss}, {codes.OK, CacheHit}, {codes.PermissionDenied, CacheHit},
		{codes.Unauthenticated, CacheMiss}, {codes.Unauthenticated, CacheNone},
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("events = %v, want %v", seen, want)
	}
	if out := fmt.Sprintf("%v %+v %#v", seen, seen, seen); strings.Contains(out, token) || strings.Contains(out, "Trading Bot") {
		t.Fatalf("an event carries the token or a claim: %s", out)
	}
}

// An observer costs the cached check no allocation.
func TestObserverAddsNoAllocation(t *testing.T) {
	cfg := staticConfig("k1")
	var n int
	cfg.Observer = func(VerifyEvent) { n++ }
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+sign("k1", baseClaims())))
	v.check(in, "/pkg.S/M", nil)
	if a := testing.AllocsPerRun(1000, func() { v.check(in, "/pkg.S/M", nil) }); a > 3 {
		t.Fatalf("allocs per observed cached check = %v, want at most 3", a)
	}
}
