// Command api-key shows a Tyk-style gateway key: the client sends the raw key
// as "authorization: <key>" (no Bearer scheme), the server checks it, and
// answers with rate-limit and session hints as response metadata.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

const quota = 100

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "example failed:", err)
		os.Exit(1)
	}
	fmt.Println("example passed")
}

// rateLimitHints plays the gateway: after the key check it tells the client
// its quota and session, as Tyk's X-RateLimit-* headers do.
func rateLimitHints() grpc.UnaryServerInterceptor {
	var used atomic.Int64
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		n := used.Add(1)
		grpc.SetHeader(ctx, metadata.Pairs(
			"x-ratelimit-limit", strconv.Itoa(quota),
			"x-ratelimit-remaining", strconv.FormatInt(quota-n, 10),
			"x-session-hint", "session-42"))
		return h(ctx, req)
	}
}

func run() error {
	keys := serverauth.NewValidator(serverauth.APIKey("authorization", "tyk-key-2f9a", "tyk-key-77c1"))
	srv, err := grpccredstest.StartServer(grpccredstest.ServerConfig{Options: []grpc.ServerOption{grpc.ChainUnaryInterceptor(keys.UnaryServerInterceptor(), rateLimitHints())}})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println("TLS gRPC server checking raw API keys on", srv.Addr)

	good, err := withKey(srv, "tyk-key-2f9a")
	if err != nil {
		return err
	}
	defer good.Close()
	wrong, err := withKey(srv, "tyk-key-0000")
	if err != nil {
		return err
	}
	defer wrong.Close()

	var hdr metadata.MD
	return inOrder(
		func() error {
			return expect("call with a valid key", codes.OK, grpccredstest.HealthCheck(context.Background(), good, grpc.Header(&hdr)))
		},
		func() error {
			fmt.Printf("%-56s -> limit %s, remaining %s, session %s\n", "  response metadata",
				first(hdr, "x-ratelimit-limit"), first(hdr, "x-ratelimit-remaining"), first(hdr, "x-session-hint"))
			if first(hdr, "x-ratelimit-remaining") != strconv.Itoa(quota-1) {
				return fmt.Errorf("rate-limit hint missing: %v", hdr)
			}
			return nil
		},
		func() error {
			return expect("call with an unknown key", codes.Unauthenticated, grpccredstest.HealthCheck(context.Background(), wrong))
		},
	)
}

// withKey connects over TLS and sends key raw in the authorization header.
func withKey(srv *grpccredstest.Server, key string) (*grpc.ClientConn, error) {
	k, err := creds.NewAPIKey("authorization", key)
	if err != nil {
		return nil, err
	}
	c, err := connection.WithTLS(srv.Addr, srv.CA.PEM, connection.WithDialOptions(grpc.WithPerRPCCredentials(k)))
	if err != nil {
		return nil, err
	}
	return c.ClientConn(), nil
}

func first(md metadata.MD, k string) string {
	if v := md.Get(k); len(v) > 0 {
		return v[0]
	}
	return ""
}
