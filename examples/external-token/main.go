// Command external-token is the main demo (make demo), and Volue Mesh's
// with_external_access_token / update_external_access_token flow in Go.
//
// It starts an embedded token authority and an embedded TLS gRPC server that
// verifies RS256 JWTs, then a client that connects with
// connection.WithExternalAccessToken, makes calls, has bad tokens refused,
// rotates to a new token before the old one expires, and shows that all of
// this used one TCP connection. It needs no setup and exits 0 on success.
package main

import (
	"context"
	"crypto"
	"errors"
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
	lifetime = 4 * time.Second // short, so the demo can show a rotation
)

var trader = grpccredstest.Identity{Name: "Trading Bot", OID: "0f5e1c9a-7b2d-4e8f-9a61-3c2d1b0e4f77", Roles: []string{"Reader", "Trader"}}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
	fmt.Println("demo passed")
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
		Leeway:         time.Second,
		RequiredClaims: []string{"name", "oid"},
	})
	if err != nil {
		return err
	}
	defer v.Close()
	srv, err := grpccredstest.StartServer(grpccredstest.ServerConfig{Options: []grpc.ServerOption{grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor(), logCaller)}})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("authority %s and TLS gRPC server %s started\n", issuer, srv.Addr)

	first, _ := auth.Issue(trader, lifetime)
	conn, err := connection.WithExternalAccessToken(srv.Addr, srv.CA.PEM, first)
	if err != nil {
		return err
	}
	defer conn.Close()
	claims, err := conn.Claims(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("client acts as %q (oid %s, roles %v); token expires in %v\n", claims.Name, claims.OID, claims.Roles, lifetime)

	steps := []func() error{
		func() error { return expect("calls with the first token", codes.OK, calls(conn, 3)) },
		func() error { return refusedUpdate(conn, "x\r\nevil: 1", "a CR/LF token (header injection)") },
		func() error { return refusedUpdate(conn, issued(auth, -time.Minute), "an expired token") },
		func() error {
			return expect("a call after the refused updates (old token kept)", codes.OK, calls(conn, 1))
		},
		func() error { return rejected(conn, "an expired token", issued(auth, -time.Minute)) },
		func() error { return rejected(conn, "a token signed by someone else", forged()) },
		func() error { return rotate(conn, auth) },
		func() error { return expect("calls with the new token", codes.OK, calls(conn, 3)) },
		func() error {
			time.Sleep(time.Until(claims.Expiry.Add(1500 * time.Millisecond)))
			return expect("calls after the first token expired", codes.OK, calls(conn, 2))
		},
	}
	if err := inOrder(steps...); err != nil {
		return err
	}
	fmt.Printf("server accepted %d TCP connection(s) for everything above\n", srv.Conns())
	if srv.Conns() != 1 {
		return errors.New("the token swap redialled")
	}
	return nil
}

// logCaller runs after the verifier and shows whose token the server saw.
func logCaller(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if c, ok := serverauth.ClaimsFromContext(ctx); ok {
		fmt.Printf("  server: %s by %q (token %v)\n", info.FullMethod, c.Name, c.All["jti"])
	}
	return h(ctx, req)
}

func calls(conn *connection.Connection, n int) error {
	for range n {
		if err := grpccredstest.HealthCheck(context.Background(), conn); err != nil {
			return err
		}
	}
	return nil
}

func refusedUpdate(conn *connection.Connection, token, what string) error {
	err := conn.UpdateAccessToken(token)
	fmt.Printf("%-56s -> refused: %v\n", "UpdateAccessToken with "+what, err)
	if err == nil {
		return fmt.Errorf("UpdateAccessToken accepted %s", what)
	}
	return nil
}

// rejected sends token for one call only (Connection.WithToken), to show what the
// server does with it.
func rejected(conn *connection.Connection, what, token string) error {
	err := grpccredstest.HealthCheck(conn.WithToken(context.Background(), token), conn)
	return expect("a call with "+what, codes.Unauthenticated, err)
}

func rotate(conn *connection.Connection, auth *grpccredstest.Signer) error {
	time.Sleep(lifetime / 2)
	next, err := auth.Issue(trader, time.Hour)
	if err != nil {
		return err
	}
	if err := conn.UpdateAccessToken(next); err != nil {
		return err
	}
	fmt.Printf("%-56s -> done, same channel\n", "UpdateAccessToken with a new token before expiry")
	return nil
}

func issued(auth *grpccredstest.Signer, lifetime time.Duration) string {
	t, _ := auth.Issue(trader, lifetime)
	return t
}

func forged() string {
	other, _ := grpccredstest.NewSigner(issuer, audience)
	return issued(other, time.Hour)
}
