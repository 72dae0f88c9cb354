package otelgrpccreds

import (
	"context"
	"crypto"
	"fmt"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// A server accepts a token, takes it from its cache, refuses it a method
// that needs a role it lacks, and rejects a foreign token and a call without
// one: the counter says so, and holds neither tokens nor claims.
func TestVerificationsByOutcomeAndCache(t *testing.T) {
	tel := newTelemetry(t)
	obs, err := NewVerifyObserver(tel.opts...)
	if err != nil {
		t.Fatal(err)
	}
	signer, foreign := newSigner(t), newSigner(t)
	v, err := serverauth.NewVerifier(serverauth.Config{
		Issuers: []serverauth.Issuer{{URL: signer.Issuer, Audiences: []string{signer.Audience},
			StaticKeys: map[string]crypto.PublicKey{signer.KeyID: signer.PublicKey}}},
		MethodRoles: map[string][]string{"/pkg.Svc/Admin": {"Admin"}},
		Observer:    obs.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	id := grpccredstest.Identity{Name: "Alice Example", OID: "oid-3f9a1c", Roles: []string{"Reader"}}
	good, _ := signer.Mint(grpccredstest.Claims{Identity: id, Expiry: time.Now().Add(time.Hour)})
	bad, _ := foreign.Mint(grpccredstest.Claims{Identity: id, Expiry: time.Now().Add(time.Hour)})
	call := interceptorCall(v.UnaryServerInterceptor())
	call("Bearer "+good, "/pkg.Svc/Get")
	call("Bearer "+good, "/pkg.Svc/Get")
	call("Bearer "+good, "/pkg.Svc/Admin")
	call("Bearer "+bad, "/pkg.Svc/Get")
	call("", "/pkg.Svc/Get")

	ms := tel.collect(t)
	want := map[string]int64{
		"grpccreds.cache=miss,grpccreds.outcome=ok":               1,
		"grpccreds.cache=hit,grpccreds.outcome=ok":                1,
		"grpccreds.cache=hit,grpccreds.outcome=permission_denied": 1,
		"grpccreds.cache=miss,grpccreds.outcome=unauthenticated":  1,
		"grpccreds.cache=none,grpccreds.outcome=unauthenticated":  1,
	}
	if got := sums(t, ms[Verifications]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s = %v, want %v", Verifications, got, want)
	}
	if out := tel.dump(t, ms); containsAny(out, []string{good, bad, id.Name, id.OID, "Reader"}) {
		t.Fatalf("a token or claim was exported:\n%s", out)
	}
}

func newSigner(t testing.TB) *grpccredstest.Signer {
	t.Helper()
	return grpccredstest.NewSigner(t, "https://issuer.example", "api://svc")
}

// interceptorCall returns a function that runs a unary call through ic with
// the authorization header auth (none if empty).
func interceptorCall(ic grpc.UnaryServerInterceptor) func(auth, method string) error {
	return func(auth, method string) error {
		md := metadata.MD{}
		if auth != "" {
			md.Set("authorization", auth)
		}
		ctx := metadata.NewIncomingContext(context.Background(), md)
		_, err := ic(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
			func(context.Context, any) (any, error) { return nil, nil })
		return err
	}
}
