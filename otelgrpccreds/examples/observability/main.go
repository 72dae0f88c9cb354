// Command observability reports a client's token refresh and a server's
// token checks as OpenTelemetry metrics. It runs an embedded identity
// provider and a TLS gRPC server that verifies its tokens, takes the
// provider down long enough for the token to expire, brings it back, sends
// a token the server rejects, and prints the metrics with the SDK's stdout
// exporter.
//
// main_test.go runs the same scenario as a test; this program builds the
// identity provider and server, which grpccredstest builds for tests, with
// an internal stand-in for a testing.TB.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/programtb"
	"github.com/grpccreds/grpccreds/otelgrpccreds"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	audience = "api://trading"
	lifetime = 4 * time.Second // served for 3.6 s, refreshed after 2.7 s
)

func main() {
	tb := programtb.New()
	err := run(tb)
	tb.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "example failed:", err)
		os.Exit(1)
	}
	fmt.Println("example passed")
}

// run runs the scenario with an identity provider and a server built with
// tb, which stops them when it is done.
func run(tb testing.TB) error {
	exp, err := stdoutmetric.New(stdoutmetric.WithPrettyPrint())
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	idp := grpccredstest.NewIdentityProvider(tb, tenant, audience)
	idp.Register("app", grpccredstest.Client{Secret: "example-secret", Identity: grpccredstest.Identity{Name: "svc", OID: "o-1"}})
	idp.SetLifetime(lifetime, 0)
	srv, err := startServer(tb, idp, otelgrpccreds.WithMeterProvider(mp))
	if err != nil {
		return err
	}
	return script(tb, idp, srv, mp)
}

// startServer starts a TLS gRPC server that verifies the provider's tokens
// and counts its checks.
func startServer(tb testing.TB, idp *grpccredstest.IdentityProvider, opts ...otelgrpccreds.Option) (*grpccredstest.Server, error) {
	checks, err := otelgrpccreds.NewVerifyObserver(opts...)
	if err != nil {
		return nil, err
	}
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: idp.HTTPClient(), Observer: checks.Observe,
		Issuers: []serverauth.Issuer{{URL: idp.Issuer, Audiences: []string{audience}, JWKSURL: idp.JWKSURL}}})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { v.Close() })
	return grpccredstest.NewServer(tb, grpccredstest.ServerConfig{Verifier: v, NoRecord: true}), nil
}

// script calls the server through an outage of the identity provider, then
// exports the metrics once, to stdout.
func script(tb testing.TB, idp *grpccredstest.IdentityProvider, srv *grpccredstest.Server, mp *sdkmetric.MeterProvider) error {
	obs, err := otelgrpccreds.NewRefreshObserver(otelgrpccreds.WithMeterProvider(mp))
	if err != nil {
		return err
	}
	defer obs.Close()
	cfg := &clientcredentials.Config{ClientID: "app", ClientSecret: "example-secret", TokenURL: idp.TokenURL, Scopes: []string{audience + "/.default"}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, idp.HTTPClient())
	ts, err := tokensource.Refreshing(tokensource.ClientCredentials(ctx, cfg), obs.Option(),
		tokensource.WithBackoff(200*time.Millisecond, time.Second))
	if err != nil {
		return err
	}
	defer ts.Close() // the connection closes it too; Close is idempotent
	obs.Watch(ts)
	conn, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, ts)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := steps(tb, idp, conn); err != nil {
		return err
	}
	fmt.Println("metrics:")
	return mp.Shutdown(context.Background())
}

func steps(tb testing.TB, idp *grpccredstest.IdentityProvider, conn *connection.Connection) error {
	ctx, start := context.Background(), time.Now()
	call := func(what string, at time.Duration, want codes.Code) func() error {
		return func() error {
			time.Sleep(time.Until(start.Add(at)))
			return expect(what, want, grpccredstest.HealthCheck(ctx, conn))
		}
	}
	foreign := grpccredstest.NewSigner(tb, idp.Issuer, audience) // its key is in no JWKS
	forged, _ := foreign.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "mallory", OID: "o-2"}})
	return inOrder(
		call("first call: the client fetches a token", 0, codes.OK),
		func() error {
			fmt.Println("identity provider down (HTTP 500)")
			idp.SetMode(grpccredstest.Fail500)
			return nil
		},
		call("call after the refresh point: the valid token is served", 3*time.Second, codes.OK),
		call("call after the token expired", 4*time.Second, codes.Unavailable),
		func() error { fmt.Println("identity provider back"); idp.SetMode(grpccredstest.Healthy); return nil },
		call("call after the backoff: recovered", 5500*time.Millisecond, codes.OK),
		func() error {
			return expect("call with a forged token", codes.Unauthenticated, grpccredstest.HealthCheck(conn.WithToken(ctx, forged), conn))
		},
	)
}

func expect(what string, want codes.Code, err error) error {
	fmt.Printf("  %-55s %v\n", what+":", status.Code(err))
	if status.Code(err) != want {
		return fmt.Errorf("%s: got %v, want %v", what, err, want)
	}
	return nil
}

func inOrder(steps ...func() error) error {
	var errs []error
	for _, s := range steps {
		errs = append(errs, s())
	}
	return errors.Join(errs...)
}
