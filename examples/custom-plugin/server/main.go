// Command server is the server half of gRPC Python's authentication example,
// in Go: a TLS gRPC API (the standard health service) whose interceptors admit
// a call only if its x-signature header is the HMAC-SHA256, under a key shared
// with the client, of the call's full method name. Each method has its own
// signature, so a header captured from one method does not open another.
//
//	SIGNING_KEY=... server -addr 127.0.0.1:50051 -cert server.pem -key server-key.pem
//
// It prints "listening on HOST:PORT" when ready and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address to listen on")
	cert := flag.String("cert", "", "server certificate, PEM file (required)")
	key := flag.String("key", "", "server private key, PEM file (required)")
	flag.Parse()
	if err := run(*addr, *cert, *key, os.Getenv("SIGNING_KEY")); err != nil {
		log.Fatal(err)
	}
}

func run(addr, cert, key, signingKey string) error {
	if signingKey == "" {
		return errors.New("set SIGNING_KEY to the key shared with the clients")
	}
	tc, err := credentials.NewServerTLSFromFile(cert, key)
	if err != nil {
		return err
	}
	v := serverauth.NewValidator(checkSignature([]byte(signingKey)))
	srv := grpc.NewServer(grpc.Creds(tc),
		grpc.UnaryInterceptor(v.UnaryServerInterceptor()), grpc.StreamInterceptor(v.StreamServerInterceptor()))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// Calls in progress get 5 seconds to finish; streams still open then
		// (a health Watch never ends by itself) are cut.
		cut := time.AfterFunc(5*time.Second, srv.Stop)
		defer cut.Stop()
		srv.GracefulStop()
	}()
	fmt.Println("listening on", lis.Addr())
	return srv.Serve(lis)
}

// checkSignature admits a call whose one x-signature value is
// hex(HMAC-SHA256(key, full method name)).
func checkSignature(key []byte) serverauth.Check {
	return func(ctx context.Context, method string, md metadata.MD) (context.Context, error) {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(method))
		sig := md.Get("x-signature")
		got, err := hex.DecodeString(first(sig))
		if len(sig) != 1 || err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			fmt.Println("refused", method, "(bad x-signature)")
			return nil, status.Error(codes.Unauthenticated, "invalid x-signature")
		}
		fmt.Println("admitted", method)
		return ctx, nil
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
