// Command middle is a middle-tier service: it serves the standard gRPC
// health service over TLS to callers with a bearer token for its own
// audience, and answers each call by calling a downstream service (for
// example ../../jwt-interceptor/server) as that caller. The caller's token
// was issued for this service, so forwarding it would be refused downstream;
// the middle tier trades it at the identity provider for a token for the
// downstream API (RFC 8693 token exchange), once per caller, kept fresh
// while that caller is active.
//
//	middle -addr :50052 -cert middle.pem -key middle-key.pem \
//	  -issuer https://idp.example/realms/trading -audience api://middle \
//	  -downstream api.example:50051 -downstream-audience api://energy-trading \
//	  -token-url https://idp.example/realms/trading/protocol/openid-connect/token \
//	  -client-id middle -client-secret-file secret.txt
//
// For Azure AD, whose answer to this is its on-behalf-of flow, make the users
// with azure.OnBehalfOf{NewClient: ..., Scopes: ...}.UserFunc() instead of
// tokensource.OnBehalfOf (NewClient rather than Client, so that MSAL's
// cache, which keeps every caller's tokens, is let go now and then). It
// prints "listening on HOST:PORT" when ready and stops on SIGINT or SIGTERM.
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
	"strings"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50052", "address to listen on")
	cert := flag.String("cert", "", "server certificate, PEM file (required)")
	key := flag.String("key", "", "server private key, PEM file (required)")
	issuer := flag.String("issuer", "", "the identity provider's issuer: callers' iss, and where its keys are found")
	audience := flag.String("audience", "", "this service's audience: callers' aud")
	idpCA := flag.String("idp-ca", "", "PEM file of roots for the identity provider (default: system roots)")
	down := flag.String("downstream", "", "the downstream service's address")
	downCA := flag.String("downstream-ca", "", "PEM file of roots for the downstream service (default: system roots)")
	downAud := flag.String("downstream-audience", "", "the audience of tokens for the downstream service")
	tokenURL := flag.String("token-url", "", "the identity provider's token endpoint")
	clientID := flag.String("client-id", "", "this service's client ID")
	secretFile := flag.String("client-secret-file", "", "file holding this service's client secret")
	flag.Parse()
	if err := run(*addr, *cert, *key, *issuer, *audience, *idpCA, *down, *downCA, *downAud, *tokenURL, *clientID, *secretFile); err != nil {
		log.Fatal(err)
	}
}

func run(addr, cert, key, issuer, audience, idpCA, down, downCA, downAud, tokenURL, clientID, secretFile string) error {
	hc, err := httpClient(idpCA)
	if err != nil {
		return err
	}
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		return err
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: strings.TrimSpace(string(secret)), TokenURL: tokenURL}
	users, err := tokensource.NewPerUser(tokensource.OnBehalfOf(ctx, cfg, tokensource.Exchange{Audience: []string{downAud}}), 0)
	if err != nil {
		return err
	}
	var downRoots []byte // nil: the system roots
	if downCA != "" {
		if downRoots, err = os.ReadFile(downCA); err != nil {
			return err
		}
	}
	conn, err := connection.WithTLS(down, downRoots, connection.WithOnBehalfOf(users))
	if err != nil {
		users.Close()
		return err
	}
	defer conn.Close()

	v, err := serverauth.NewVerifier(serverauth.Config{
		Issuers: []serverauth.Issuer{{URL: issuer, Audiences: []string{audience}}}, HTTPClient: hc})
	if err != nil {
		return err
	}
	defer v.Close()
	tc, err := composite.ServerTLSFromFiles(cert, key)
	if err != nil {
		return err
	}
	defer tc.Close()
	srv := grpc.NewServer(grpc.Creds(tc), grpc.UnaryInterceptor(v.UnaryServerInterceptor()),
		grpc.StreamInterceptor(v.StreamServerInterceptor()))
	healthpb.RegisterHealthServer(srv, &relay{conn: conn, down: healthpb.NewHealthClient(conn)})
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-sig.Done()
		// Calls in progress get 5 seconds to finish; streams still open then
		// (a health Watch never ends by itself) are cut.
		cut := time.AfterFunc(5*time.Second, srv.Stop)
		defer cut.Stop()
		srv.GracefulStop()
	}()
	fmt.Println("listening on", lis.Addr())
	return srv.Serve(lis)
}

// relay answers health calls by asking the downstream service as the caller.
type relay struct {
	healthpb.UnimplementedHealthServer
	conn *connection.Connection
	down healthpb.HealthClient
}

func (r *relay) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return r.down.Check(r.asCaller(ctx), req)
}

func (r *relay) Watch(req *healthpb.HealthCheckRequest, out grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	in, err := r.down.Watch(r.asCaller(out.Context()), req)
	if err != nil {
		return err
	}
	for {
		m, err := in.Recv()
		if err != nil {
			return err
		}
		if err := out.Send(m); err != nil {
			return err
		}
	}
}

// asCaller returns a context for downstream calls made on behalf of the
// caller of ctx, whose token the verifier has already checked. Its deadline
// and cancellation carry over; its metadata does not (grpc never forwards
// incoming metadata by itself).
func (r *relay) asCaller(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	scheme, token, _ := strings.Cut(strings.Join(md.Get("authorization"), ""), " ")
	if !strings.EqualFold(scheme, "bearer") {
		token = "" // refused by OnBehalfOf as unusable
	}
	return r.conn.OnBehalfOf(ctx, token)
}

// httpClient returns a client for the identity provider that trusts the
// roots in caFile, or the system roots.
func httpClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificates in %s", caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}, nil
}
