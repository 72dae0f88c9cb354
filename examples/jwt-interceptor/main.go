// Command jwt-interceptor is the classic JWT server interceptor: the server
// verifies a bearer JWT on every call (signature, expiry, audience, required
// claims, roles per method) and hands the claims to the handler.
package main

import (
	"context"
	"crypto"
	"fmt"
	"os"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

const (
	issuer   = "https://login.example.test/tenant/v2.0"
	audience = "api://energy-trading"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "example failed:", err)
		os.Exit(1)
	}
	fmt.Println("example passed")
}

// handlerSeesClaims stands in for a handler: it reads the verified claims.
func handlerSeesClaims(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if c, ok := serverauth.ClaimsFromContext(ctx); ok {
		fmt.Printf("  handler: %s called by %q (oid %s, roles %v)\n", info.FullMethod, c.Name, c.OID, c.Roles)
	}
	return h(ctx, req)
}

func run() error {
	auth, err := grpccredstest.NewSigner(issuer, audience)
	if err != nil {
		return err
	}
	v, err := serverauth.NewVerifier(serverauth.Config{
		StaticKeys:     map[string]crypto.PublicKey{auth.KeyID: auth.PublicKey()},
		Issuer:         issuer,
		Audience:       audience,
		RequiredClaims: []string{"name", "oid"},
		MethodRoles:    map[string][]string{"/grpc.health.v1.Health/Check": {"Trader"}},
	})
	if err != nil {
		return err
	}
	defer v.Close()
	srv, err := grpccredstest.StartServer(grpccredstest.ServerConfig{Options: []grpc.ServerOption{grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor(), handlerSeesClaims)}})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println("TLS gRPC server with the JWT interceptor on", srv.Addr)

	trader, _ := auth.Issue(grpccredstest.Identity{Name: "Trading Bot", OID: "0f5e1c9a", Roles: []string{"Reader", "Trader"}}, time.Hour)
	reader, _ := auth.Issue(grpccredstest.Identity{Name: "Report Job", OID: "77aa01", Roles: []string{"Reader"}}, time.Hour)
	conn, err := connection.WithExternalAccessToken(srv.Addr, srv.CA.PEM, trader)
	if err != nil {
		return err
	}
	defer conn.Close()
	plain, err := connection.WithTLS(srv.Addr, srv.CA.PEM)
	if err != nil {
		return err
	}
	defer plain.Close()
	ctx := context.Background()
	return inOrder(
		func() error {
			return expect("call with a Trader's token", codes.OK, grpccredstest.HealthCheck(ctx, conn))
		},
		func() error {
			return expect("call with a Reader's token", codes.PermissionDenied, grpccredstest.HealthCheck(conn.WithToken(ctx, reader), conn))
		},
		func() error {
			return expect("call with a tampered token", codes.Unauthenticated, grpccredstest.HealthCheck(conn.WithToken(ctx, trader[:len(trader)-4]+"AAAA"), conn))
		},
		func() error {
			return expect("call without a token", codes.Unauthenticated, grpccredstest.HealthCheck(ctx, plain))
		},
	)
}
