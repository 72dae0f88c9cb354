package serverauth

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// A handler that scribbles on the claims it is given does not change what the
// next call with the same (cached) token sees.
func TestHandlerCannotAlterCachedClaims(t *testing.T) {
	v, err := NewVerifier(staticConfig("k1"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var seen []string
	scribble := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		c, _ := ClaimsFromContext(ctx)
		seen = append(seen, fmt.Sprint(c.Roles(), c["roles"], c["name"]))
		c["roles"].([]any)[0] = "Admin"
		c["name"] = "Mallory"
		delete(c, "oid")
		return h(ctx, req)
	}
	client := serve(t, v.admit, scribble)
	tok := "Bearer " + sign("k1", baseClaims())
	for range 2 {
		if err := check(client, tok); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 2 || seen[1] != seen[0] {
		t.Fatalf("second call saw %q, first saw %q", seen[1], seen[0])
	}
}

// The claims Verify returns are the caller's to change.
func TestVerifyReturnsACopy(t *testing.T) {
	v, err := NewVerifier(staticConfig("k1"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := sign("k1", baseClaims())
	first, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	first["roles"].([]any)[0], first["name"], first["oid"] = "Admin", "Mallory", "o-2"
	again, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if again.Roles()[0] != "Reader" || again["name"] != "Trading Bot" || again["oid"] != "o-1" {
		t.Fatalf("the cached claims changed: %+v", again)
	}
}

// The interceptor hands its cached claims to the context without copying
// them: a cache hit costs what it did before claims were copied for handlers
// (the header lookup, the token bytes for the hash, the context value).
func TestCachedCheckDoesNotCopy(t *testing.T) {
	v, err := NewVerifier(staticConfig("k1"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+sign("k1", baseClaims())))
	if _, err := v.check(in, "/pkg.S/M", nil); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() { v.check(in, "/pkg.S/M", nil) }); n > 3 {
		t.Fatalf("allocs per cached check = %v, want at most 3", n)
	}
}
