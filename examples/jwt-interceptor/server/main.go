// Command server serves the standard gRPC health service over TLS behind a
// JWT-checking interceptor: every call must carry a bearer token signed by a
// key of the issuer, for this issuer and audience, and Health/Check also
// needs a role (an application's token) or a scope (a user's delegated
// token). It is the server half of a typical OAuth2-protected API. The keys
// are found by OpenID Connect discovery from the issuer, unless -jwks-url
// names them.
//
//	server -addr :50051 -cert server.pem -key server-key.pem \
//	  -issuer https://login.microsoftonline.com/TENANT/v2.0 -audience API-CLIENT-ID \
//	  -check-role Trader -check-scope Health.Read
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
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address to listen on")
	cert := flag.String("cert", "", "server certificate, PEM file (required)")
	key := flag.String("key", "", "server private key, PEM file (required)")
	jwksURL := flag.String("jwks-url", "", "the issuer's JWKS endpoint (default: found by discovery from -issuer)")
	jwksCA := flag.String("jwks-ca", "", "PEM file of roots for the issuer's endpoints (default: system roots)")
	issuer := flag.String("issuer", "", "required iss claim")
	audience := flag.String("audience", "", "required aud claim")
	role := flag.String("check-role", "Trader", "role that may call Health/Check")
	scope := flag.String("check-scope", "", "scope that may call Health/Check too (default: none)")
	flag.Parse()
	if err := run(*addr, *cert, *key, *jwksURL, *jwksCA, *issuer, *audience, *role, *scope); err != nil {
		log.Fatal(err)
	}
}

func run(addr, cert, key, jwksURL, jwksCA, issuer, audience, role, scope string) error {
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
	cfg := serverauth.Config{
		Issuers:     []serverauth.Issuer{{URL: issuer, Audiences: []string{audience}, JWKSURL: jwksURL}},
		HTTPClient:  client,
		MethodRoles: map[string][]string{"/grpc.health.v1.Health/Check": {role}},
	}
	if scope != "" { // either the role or the scope will do
		cfg.MethodScopes = map[string][]string{"/grpc.health.v1.Health/Check": {scope}}
	}
	v, err := serverauth.NewVerifier(cfg)
	if err != nil {
		return err
	}
	defer v.Close()

	srv := grpc.NewServer(grpc.Creds(tc),
		grpc.ChainUnaryInterceptor(v.UnaryServerInterceptor(), logCaller),
		grpc.ChainStreamInterceptor(v.StreamServerInterceptor()))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	if err := v.CheckMethods(srv); err != nil {
		return err // a misspelt method name would leave it unprotected
	}
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

// logCaller runs after the verifier: a handler reads the verified claims the
// same way.
func logCaller(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if c, ok := serverauth.ClaimsFromContext(ctx); ok {
		fmt.Printf("%s called by %v (oid %v, roles %v, scp %v)\n", info.FullMethod, c["name"], c["oid"], c.Roles(), c["scp"])
	}
	return h(ctx, req)
}
