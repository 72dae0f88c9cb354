// Command server checks a Tyk-style API key: the client sends the raw key as
// "authorization: <key>" (no Bearer scheme), and the server admits the call if
// it is one of its keys, then answers with rate-limit hints as response
// metadata, as Tyk's X-RateLimit-* headers do. The API is the standard health
// service, over TLS.
//
//	API_KEYS=key1,key2 server -addr 127.0.0.1:50051 -cert server.pem -key server-key.pem
//
// It prints "listening on HOST:PORT" when ready and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address to listen on")
	cert := flag.String("cert", "", "server certificate, PEM file (required)")
	key := flag.String("key", "", "server private key, PEM file (required)")
	header := flag.String("header", "authorization", "metadata key that carries the API key")
	quota := flag.Int("quota", 100, "calls per key announced in x-ratelimit-limit")
	flag.Parse()
	if err := run(*addr, *cert, *key, *header, *quota, os.Getenv("API_KEYS")); err != nil {
		log.Fatal(err)
	}
}

func run(addr, cert, key, header string, quota int, keys string) error {
	if keys == "" {
		return errors.New("set API_KEYS to the accepted keys, comma-separated")
	}
	tc, err := credentials.NewServerTLSFromFile(cert, key)
	if err != nil {
		return err
	}
	var accepted []string
	for _, k := range strings.Split(keys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			accepted = append(accepted, k)
		}
	}
	if len(accepted) == 0 {
		return errors.New("API_KEYS holds no key")
	}
	v := serverauth.NewValidator(serverauth.APIKey(header, accepted...))
	srv := grpc.NewServer(grpc.Creds(tc),
		grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor(), rateLimitHints(quota)),
		grpc.StreamInterceptor(v.StreamServerInterceptor()))
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

// rateLimitHints runs after the key check and tells the client its quota. A
// real gateway counts per key and refuses calls over the limit with
// ResourceExhausted; this one only counts.
func rateLimitHints(quota int) grpc.UnaryServerInterceptor {
	var used atomic.Int64
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		n := used.Add(1)
		err := grpc.SetHeader(ctx, metadata.Pairs(
			"x-ratelimit-limit", strconv.Itoa(quota),
			"x-ratelimit-remaining", strconv.FormatInt(max(int64(quota)-n, 0), 10)))
		if err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
}
