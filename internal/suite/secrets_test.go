package suite

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// evidence collects everything a user could see: log records, events,
// errors, status messages and formatted values.
type evidence struct {
	mu   sync.Mutex
	logs bytes.Buffer
	text []string
}

func (e *evidence) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.Write(p)
}

func (e *evidence) add(vs ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range vs {
		if v == nil {
			continue
		}
		if err, ok := v.(error); ok {
			e.text = append(e.text, err.Error(), status.Convert(err).Message())
		}
		e.text = append(e.text, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v))
	}
}

func (e *evidence) all() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String() + "\n" + strings.Join(e.text, "\n")
}

// TestSecretsNeverLeak drives success and failure paths of every source and
// credential with a capturing logger and observer, and checks that no
// token, client secret, assertion or API key shows up anywhere.
func TestSecretsNeverLeak(t *testing.T) {
	ev := &evidence{}
	logger := slog.New(slog.NewTextHandler(ev, &slog.HandlerOptions{Level: slog.LevelDebug}))
	observe := tokensource.WithObserver(func(e tokensource.Event) { ev.add(e, e.Err) })
	secrets := []string{secret}
	ctx := context.Background()

	// x/oauth2 client credentials through the whole stack: success, then failures.
	s := newStack(t, tokensource.WithLogger(logger), observe)
	ev.add(s.call(5*time.Second), s.engine, s.conn)
	tok, _ := s.engine.Token()
	secrets = append(secrets, tok.AccessToken)
	for _, m := range []grpccredstest.Mode{grpccredstest.InvalidClient, grpccredstest.Fail500, grpccredstest.Garbage, grpccredstest.Fail429} {
		s.idp.SetMode(m)
		gen, _ := engine.Of(s.engine)
		gen.Invalidate(gen.Generation())
		ev.add(s.call(5 * time.Second))
		s.settle(t)
	}
	s.idp.SetMode(grpccredstest.Healthy)

	// MSAL: a secret, a wrong secret, and a federated assertion.
	s.idp.Register("wi-app", grpccredstest.Client{Identity: grpccredstest.Identity{Name: "wi", OID: "o-2"}})
	assertion := "eyJhbGciOiJub25lIn0.assertion-marker-7f3a.sig"
	file := filepath.Join(t.TempDir(), "federated")
	os.WriteFile(file, []byte(assertion), 0o600)
	secrets = append(secrets, assertion, "assertion-marker-7f3a")
	hc := s.idp.HTTPClient()
	defer hc.CloseIdleConnections()
	opts := []tokensource.Option{tokensource.WithLogger(logger), observe}
	msal := []confidential.Option{confidential.WithInstanceDiscovery(false)}
	for _, sec := range []string{secret, "wrong-" + secret} {
		src, err := azure.ClientSecret{TenantID: tenant, ClientID: clientID, Scopes: []string{"api://grpccreds/.default"},
			Secret: sec, AuthorityHost: s.idp.URL, HTTPClient: hc, MSAL: msal}.TokenSource()
		ev.add(err, src)
		r := enginetest.Engine(t, src, opts...)
		tok, err := r.Token()
		ev.add(err, r)
		if tok != nil {
			secrets = append(secrets, tok.AccessToken)
		}
		r.Close()
	}
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	src, err := azure.WorkloadIdentity{TenantID: tenant, ClientID: "wi-app", Scopes: []string{"api://grpccreds/.default"},
		AuthorityHost: s.idp.URL, HTTPClient: hc, MSAL: msal}.TokenSource()
	ev.add(err)
	r := enginetest.Engine(t, src, opts...)
	_, err = r.Token()
	ev.add(err, r)
	r.Close()

	// External tokens, per-call overrides, API keys, plugins and TLS.
	apiKey := "api-key-marker-91c2"
	secrets = append(secrets, apiKey)
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	conn, err := connection.WithExternalAccessToken(srv.Addr, srv.CA.PEM, tok.AccessToken, connection.WithLogger(logger))
	ev.add(err, conn)
	for _, bad := range []string{tok.AccessToken + " x", tok.AccessToken + "\r\n", apiKey + "é"} {
		ev.add(conn.UpdateAccessToken(bad))
	}
	ev.add(conn.Invoke(conn.WithToken(ctx, apiKey+"\n"), "/grpc.health.v1.Health/Check", &struct{}{}, &struct{}{}))
	conn.Close()
	key, err := creds.NewAPIKey("x-api-key", apiKey)
	ev.add(err, key)
	_, err = creds.NewAPIKey("x-api-key", apiKey+" ")
	ev.add(err)
	ev.add(creds.NewPlugin(func(context.Context, creds.RequestInfo) (map[string]string, error) {
		return map[string]string{"x-k": apiKey}, nil
	}))
	_, err = composite.TLS([]byte(apiKey))
	ev.add(err)

	// The server side refusing tokens.
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: hc,
		Issuers: []serverauth.Issuer{{URL: s.idp.Issuer, Audiences: []string{"api://other"}, JWKSURL: s.idp.JWKSURL}}})
	ev.add(err, v)
	for _, h := range []string{"Bearer " + tok.AccessToken, "Bearer " + apiKey, apiKey} {
		in := metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", h))
		_, err := v.UnaryServerInterceptor()(in, nil, &grpc.UnaryServerInfo{FullMethod: "/pkg.S/M"},
			func(context.Context, any) (any, error) { return nil, nil })
		ev.add(err)
	}
	v.Close()

	out := ev.all()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(out, sec) {
			i := strings.Index(out, sec)
			t.Fatalf("a secret leaked near: %q", out[max(0, i-120):i])
		}
	}
	if !strings.Contains(out, "token refresh failed") || !strings.Contains(out, "invalid_client") ||
		!strings.Contains(out, "access token update refused") {
		t.Fatalf("the failure paths were not exercised:\n%s", out)
	}
}
