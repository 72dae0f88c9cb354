// Command server is a TLS gRPC API (the standard health service) that admits
// calls carrying a valid bearer JWT from the issuer's JWKS, and counts the TCP
// connections it serves: when it stops it prints how many there were, so you
// can see that a client swapping its token did not redial.
//
//	server -addr 127.0.0.1:50051 -cert server.pem -key server-key.pem \
//	  -jwks-url https://login.example.com/keys -issuer https://login.example.com \
//	  -audience api://my-api
//
// It prints "listening on HOST:PORT" when ready and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address to listen on")
	cert := flag.String("cert", "", "server certificate, PEM file (required)")
	key := flag.String("key", "", "server private key, PEM file (required)")
	jwksURL := flag.String("jwks-url", "", "the issuer's JWKS endpoint (required)")
	jwksCA := flag.String("jwks-ca", "", "PEM file of roots for the JWKS endpoint (default: system roots)")
	issuer := flag.String("issuer", "", "required iss claim")
	audience := flag.String("audience", "", "required aud claim")
	flag.Parse()
	if err := run(*addr, *cert, *key, *jwksURL, *jwksCA, *issuer, *audience); err != nil {
		log.Fatal(err)
	}
}

func run(addr, cert, key, jwksURL, jwksCA, issuer, audience string) error {
	tc, err := credentials.NewServerTLSFromFile(cert, key)
	if err != nil {
		return err
	}
	client := http.DefaultClient
	if jwksCA != "" {
		pem, err := os.ReadFile(jwksCA)
		if err != nil {
			return err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificates in %s", jwksCA)
		}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	}
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: client,
		Issuers:        []serverauth.Issuer{{URL: issuer, Audiences: []string{audience}, JWKSURL: jwksURL}},
		RequiredClaims: []string{"name", "oid"}})
	if err != nil {
		return err
	}
	defer v.Close()

	conns := new(connCounter)
	srv := grpc.NewServer(grpc.Creds(tc), grpc.StatsHandler(conns),
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
	if err := srv.Serve(lis); err != nil {
		return err
	}
	fmt.Printf("served %d TCP connection(s)\n", conns.total.Load())
	return nil
}

// connCounter is a gRPC stats handler that counts the server's connections.
type connCounter struct{ total atomic.Int64 }

func (c *connCounter) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	fmt.Println("connection from", info.RemoteAddr)
	return ctx
}

func (c *connCounter) HandleConn(_ context.Context, s stats.ConnStats) {
	switch s.(type) {
	case *stats.ConnBegin:
		c.total.Add(1)
	case *stats.ConnEnd:
		fmt.Println("connection closed")
	}
}

func (c *connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (c *connCounter) HandleRPC(context.Context, stats.RPCStats)                       {}
