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

// A server that accepts Azure AD tokens for its API, requires name and oid,
// and lets only Traders call the trading service.
func ExampleNewVerifier() {
	v, err := serverauth.NewVerifier(serverauth.Config{
		JWKSURL:        "https://login.microsoftonline.com/TENANT/discovery/v2.0/keys",
		Issuer:         "https://login.microsoftonline.com/TENANT/v2.0",
		Audience:       "api://energy-trading",
		RequiredClaims: []string{"name", "oid"},
		MethodRoles:    map[string][]string{"/trading.v1.Orders/*": {"Trader"}},
		Skip:           []string{"/grpc.health.v1.Health/Check"},
	})
	if err != nil {
		return // the JWKS is fetched at start; offline here
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
