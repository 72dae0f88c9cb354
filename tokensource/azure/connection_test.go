package azure_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// lockedBuffer is a log destination the engine's goroutine writes while
// the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// connApp is a ClientSecret source for an application registered at a
// fresh identity provider, which the test returns too.
func connApp(t *testing.T) (*grpccredstest.IdentityProvider, tokensource.ContextTokenSource) {
	t.Helper()
	const secret = "conn-S3cret~for-tests"
	idp := grpccredstest.NewIdentityProvider(t, "22222222-3333-4444-5555-666666666666", "api://grpccreds")
	idp.Register("conn-app", grpccredstest.Client{Secret: secret, Identity: grpccredstest.Identity{Name: "conn-svc", OID: "o-conn"}})
	hc := idp.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return idp, source(t, azure.ClientSecret{TenantID: idp.Tenant, ClientID: "conn-app", Secret: secret,
		Scopes: []string{"api://grpccreds/.default"}, AuthorityHost: idp.URL, HTTPClient: hc,
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false)}})
}

// A Connection over an Azure source builds the engine in front of it with
// the connection's logger and refresh options, and stops it on Close.
func TestConnectionOverAzureSourceTakesLoggerAndRefreshOptions(t *testing.T) {
	idp, src := connApp(t)
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	succeeded := make(chan tokensource.Event, 16)
	observe := func(e tokensource.Event) {
		if e.Kind == tokensource.RefreshSucceeded {
			succeeded <- e
		}
	}
	conn, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, src, connection.WithLogger(logger),
		connection.WithRefreshOptions(tokensource.WithObserver(observe)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if auth := srv.Auth(); len(auth) != 1 || len(auth[0]) != 1 || !strings.HasPrefix(auth[0][0], "Bearer ey") {
		t.Fatalf("the server saw %d calls, the first with %d authorization values; want one bearer JWT", len(auth), len(auth[0]))
	}
	select {
	case <-succeeded:
	case <-ctx.Done():
		t.Fatal("the observer given through WithRefreshOptions saw no RefreshSucceeded")
	}
	if l := logs.String(); !strings.Contains(l, "level=DEBUG") || !strings.Contains(l, "token refreshed") {
		t.Fatalf("the logger given through WithLogger has no refresh line:\n%s", l)
	}
	if c, err := conn.Claims(ctx); err != nil || c["name"] != "conn-svc" {
		t.Fatalf("claims %v, %v; want the token of conn-svc", c, err)
	}

	requests := idp.TokenRequests()
	conn.Close()
	if _, err := conn.Claims(ctx); !errors.Is(err, tokensource.ErrClosed) {
		t.Fatalf("claims after Close: %v, want the engine's ErrClosed", err)
	}
	if idp.TokenRequests() != requests {
		t.Fatalf("%d token requests after Close, want none", idp.TokenRequests()-requests)
	}
}

// An engine already built was configured then: WithRefreshOptions is
// refused, by name, rather than silently ignored.
func TestConnectionRefusesRefreshOptionsForABuiltEngine(t *testing.T) {
	_, src := connApp(t)
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	r, err := tokensource.Refreshing(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, err := connection.WithTokenSource(srv.Addr, srv.CA.PEM, r, connection.WithRefreshOptions(tokensource.WithJitter(0)))
	if err == nil {
		conn.Close()
		t.Fatal("WithRefreshOptions accepted for a *tokensource.Refresher")
	}
	if !strings.Contains(err.Error(), "WithRefreshOptions") {
		t.Fatalf("%v, want an error naming WithRefreshOptions", err)
	}
}
