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
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/internal/authority"
	"github.com/grpccreds/grpccreds/internal/demo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

const (
	issuer   = "https://login.example.test/tenant/v2.0"
	audience = "api://energy-trading"
	lifetime = 4 * time.Second // short, so the demo can show a rotation
)

var trader = authority.Identity{Name: "Trading Bot", OID: "0f5e1c9a-7b2d-4e8f-9a61-3c2d1b0e4f77", Roles: []string{"Reader", "Trader"}}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
	fmt.Println("demo passed")
}

func run() error {
	auth, err := authority.New(issuer, audience)
	if err != nil {
		return err
	}
	srv, err := demo.Start(grpc.UnaryInterceptor(verifier(auth.PublicKey(), issuer, audience)))
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("authority %s and TLS gRPC server %s started\n", issuer, srv.Addr)

	first, _ := auth.Issue(trader, lifetime)
	conn, err := connection.WithExternalAccessToken(srv.Addr, srv.CAPEM, first)
	if err != nil {
		return err
	}
	defer conn.Close()
	claims, err := conn.Claims(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("client acts as %q (oid %s, roles %v); token expires in %v\n", claims.Name, claims.OID, claims.Roles, lifetime)
	client := healthpb.NewHealthClient(conn)

	steps := []func() error{
		func() error { return expect("calls with the first token", codes.OK, calls(client, 3)) },
		func() error { return refusedUpdate(conn, "x\r\nevil: 1", "a token with CR/LF (header injection)") },
		func() error { return refusedUpdate(conn, issued(auth, -time.Minute), "an expired token") },
		func() error {
			return expect("a call after the refused updates (old token kept)", codes.OK, calls(client, 1))
		},
		func() error { return rejected(client, "an expired token", issued(auth, -time.Minute)) },
		func() error { return rejected(client, "a token signed by someone else", forged()) },
		func() error { return rotate(conn, auth) },
		func() error { return expect("calls with the new token", codes.OK, calls(client, 3)) },
		func() error {
			time.Sleep(time.Until(claims.Expiry.Add(1500 * time.Millisecond)))
			return expect("calls after the first token expired", codes.OK, calls(client, 2))
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	fmt.Printf("server accepted %d TCP connection(s) for everything above\n", srv.Conns())
	if srv.Conns() != 1 {
		return errors.New("the token swap redialled")
	}
	return nil
}

func calls(client healthpb.HealthClient, n int) error {
	for range n {
		if err := call(context.Background(), client); err != nil {
			return err
		}
	}
	return nil
}

func call(ctx context.Context, client healthpb.HealthClient) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func expect(what string, want codes.Code, err error) error {
	got := status.Code(err)
	fmt.Printf("%-62s -> %v\n", what, got)
	if got != want {
		return fmt.Errorf("%s: got %v (%v), want %v", what, got, err, want)
	}
	return nil
}

func refusedUpdate(conn *connection.Connection, token, what string) error {
	err := conn.UpdateAccessToken(token)
	fmt.Printf("%-62s -> refused: %v\n", "UpdateAccessToken with "+what, err)
	if err == nil {
		return fmt.Errorf("UpdateAccessToken accepted %s", what)
	}
	return nil
}

// rejected sends token for one call only (creds.WithToken), to show what the
// server does with it.
func rejected(client healthpb.HealthClient, what, token string) error {
	err := call(creds.WithToken(context.Background(), token), client)
	return expect("a call with "+what, codes.Unauthenticated, err)
}

func rotate(conn *connection.Connection, auth *authority.Authority) error {
	time.Sleep(lifetime / 2)
	next, err := auth.Issue(trader, time.Hour)
	if err != nil {
		return err
	}
	if err := conn.UpdateAccessToken(next); err != nil {
		return err
	}
	fmt.Printf("%-62s -> done, same channel\n", "UpdateAccessToken with a new token before expiry")
	return nil
}

func issued(auth *authority.Authority, lifetime time.Duration) string {
	t, _ := auth.Issue(trader, lifetime)
	return t
}

func forged() string {
	other, _ := authority.New(issuer, audience)
	return issued(other, time.Hour)
}
