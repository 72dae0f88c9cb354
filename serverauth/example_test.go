package serverauth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// A server that accepts an OpenID Connect provider's access tokens for its
// API (the keys found by discovery), requires name and sub, lets Traders
// (an app role) or callers granted the orders.write scope place orders, and
// anyone with the orders.read scope read them.
func ExampleNewVerifier() {
	v, err := serverauth.NewVerifier(serverauth.Config{
		Issuers: []serverauth.Issuer{{
			URL:       "https://id.example.com/realms/trading",
			Audiences: []string{"energy-trading"},
			Type:      "at+jwt",
		}},
		RequiredClaims: []string{"name", "sub"},
		MethodRoles:    map[string][]string{"/trading.v1.Orders/Place": {"Trader"}},
		MethodScopes: map[string][]string{
			"/trading.v1.Orders/Place": {"orders.write"},
			"/trading.v1.Orders/List":  {"orders.read"},
		},
		Skip: []string{"/grpc.health.v1.Health/Check"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	srv := grpc.NewServer(grpc.UnaryInterceptor(v.UnaryServerInterceptor()), grpc.StreamInterceptor(v.StreamServerInterceptor()))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	// … register trading.v1.Orders, then, before Serve:
	if err := v.CheckMethods(srv); err != nil {
		log.Fatal(err) // a MethodRoles key or Skip entry names no registered method
	}
}

// In a handler, the verified claims are in the context.
func ExampleClaimsFromContext() {
	handler := func(ctx context.Context) error {
		c, ok := serverauth.ClaimsFromContext(ctx)
		if !ok {
			return status.Error(codes.Unauthenticated, "no claims")
		}
		fmt.Println("called by", c["name"], c["oid"], c.Roles())
		return nil
	}
	_ = handler
}

// A raw key in the authorization header, as API gateways send it.
func ExampleAPIKey() {
	v := serverauth.NewValidator(serverauth.APIKey("authorization", "key-1", "key-2"))
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "key-2"))
	_, err := v.UnaryServerInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/pkg.S/M"},
		func(context.Context, any) (any, error) { return "ok", nil })
	fmt.Println(err)
	// Output: <nil>
}
