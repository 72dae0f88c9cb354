// Command client calls a JWT-protected gRPC API (the standard health service
// of ../server) with an access token it was given, once as a unary call and
// once as a stream, and prints what the server answered.
//
//	client -addr 127.0.0.1:50051 -ca ca.pem -token-file token.jwt
//
// It exits 1 if a call fails, printing its status code.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	ca := flag.String("ca", "", "PEM file of roots for the server's certificate (default: system roots)")
	tokenFile := flag.String("token-file", "", "file holding the access token (default: $ACCESS_TOKEN)")
	flag.Parse()
	if err := run(*addr, *ca, *tokenFile); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, ca, tokenFile string) error {
	token := os.Getenv("ACCESS_TOKEN")
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return err
		}
		token = strings.TrimSpace(string(b))
	}
	var rootPEM []byte // nil: the system roots
	if ca != "" {
		var err error
		if rootPEM, err = os.ReadFile(ca); err != nil {
			return err
		}
	}
	conn, err := connection.WithExternalAccessToken(addr, rootPEM, token)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := conn.Claims(ctx) // unverified: for display only
	if err != nil {
		return err
	}
	fmt.Printf("acting as %v (roles %v), token expires %s\n", c["name"], c.Roles(), c.Expiry().Format(time.RFC3339))

	health := healthpb.NewHealthClient(conn)
	resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("check: %s: %s", status.Code(err), status.Convert(err).Message())
	}
	fmt.Println("Check:", resp.GetStatus())

	stream, err := health.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	first, err := stream.Recv() // the stream's check runs when it opens
	if err != nil {
		return fmt.Errorf("watch: %s: %s", status.Code(err), status.Convert(err).Message())
	}
	fmt.Println("Watch:", first.GetStatus())
	return nil
}
