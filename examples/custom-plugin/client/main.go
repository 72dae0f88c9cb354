// Command client is the client half of gRPC Python's authentication example,
// in Go: a metadata plugin signs each call with an x-signature header (the
// HMAC-SHA256 of the call's full method name under a key shared with the
// server), and is composed with TLS into one channel credential, as
// composite_channel_credentials does. It calls Health/Check (unary) and
// Health/Watch (a stream); each gets its own signature.
//
// Like the example it mirrors, the signature depends on the method only, so a
// captured header can be replayed for that method: a real scheme signs a
// timestamp or nonce too, and the server checks it.
//
//	SIGNING_KEY=... client -addr 127.0.0.1:50051 -ca ca.pem
//
// It exits 1 if a call fails, printing its status code.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	ca := flag.String("ca", "", "PEM file of roots for the server's certificate (default: system roots)")
	flag.Parse()
	if err := run(*addr, *ca, os.Getenv("SIGNING_KEY")); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, ca, signingKey string) error {
	if signingKey == "" {
		return errors.New("set SIGNING_KEY to the key shared with the server")
	}
	var rootPEM []byte // nil: the system roots
	if ca != "" {
		var err error
		if rootPEM, err = os.ReadFile(ca); err != nil {
			return err
		}
	}
	tc, err := composite.TLS(rootPEM)
	if err != nil {
		return err
	}
	// The plugin runs for every call, as gRPC Python's AuthMetadataPlugin does.
	sign := creds.NewPlugin(func(_ context.Context, info creds.RequestInfo) (map[string]string, error) {
		mac := hmac.New(sha256.New, []byte(signingKey))
		mac.Write([]byte(info.Method))
		return map[string]string{"x-signature": hex.EncodeToString(mac.Sum(nil))}, nil
	})
	conn, err := grpc.NewClient(addr, grpc.WithCredentialsBundle(composite.Channel(tc, sign)))
	if err != nil {
		return err
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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
	first, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("watch: %s: %s", status.Code(err), status.Convert(err).Message())
	}
	fmt.Println("Watch:", first.GetStatus())
	return nil
}
