// Command client calls an API behind a Tyk-style gateway key: the key is sent
// raw as "authorization: <key>" on every call, over TLS, through a
// connection.Connection with the key as its call credentials. It prints the
// rate-limit hints the server returns.
//
//	API_KEY=... client -addr 127.0.0.1:50051 -ca ca.pem
//
// It exits 1 if the call fails, printing its status code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/creds"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	ca := flag.String("ca", "", "PEM file of roots for the server's certificate (default: system roots)")
	header := flag.String("header", "authorization", "metadata key that carries the API key (e.g. x-api-key)")
	flag.Parse()
	if err := run(*addr, *ca, *header, os.Getenv("API_KEY")); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, ca, header, apiKey string) error {
	if apiKey == "" {
		return errors.New("set API_KEY to your key")
	}
	var rootPEM []byte // nil: the system roots
	if ca != "" {
		var err error
		if rootPEM, err = os.ReadFile(ca); err != nil {
			return err
		}
	}
	key, err := creds.NewAPIKey(header, apiKey) // refuses keys with spaces or control characters
	if err != nil {
		return err
	}
	conn, err := connection.WithTLS(addr, rootPEM, connection.WithCallCredentials(key))
	if err != nil {
		return err
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var hdr metadata.MD
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
	if err != nil {
		return fmt.Errorf("check: %s: %s", status.Code(err), status.Convert(err).Message())
	}
	fmt.Println("Check:", resp.GetStatus())
	if limit, left := hdr.Get("x-ratelimit-limit"), hdr.Get("x-ratelimit-remaining"); len(limit) > 0 && len(left) > 0 {
		fmt.Printf("rate limit: %s remaining of %s\n", left[0], limit[0])
	}
	return nil
}
