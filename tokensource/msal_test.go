package tokensource_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/internal/authority"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/tokensource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	clientID = "app-1"
	secret   = "Sup3r-S3cret~value.for-tests"
)

// idp starts the HTTPS test authority with one registered client.
func idp(t *testing.T) *authority.Server {
	t.Helper()
	s, err := authority.NewServer(tenant, "api://grpccreds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.Register(clientID, authority.Client{Secret: secret, Identity: authority.Identity{Name: "svc", OID: "o-1", Roles: []string{"Trader"}}})
	return s
}

// azure describes the registered client at s, for the real MSAL code path.
func azure(t *testing.T, s *authority.Server, opts ...tokensource.Option) tokensource.Azure {
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return tokensource.Azure{TenantID: tenant, ClientID: clientID, Scopes: []string{"api://grpccreds/.default"},
		AuthorityHost: s.Base(), Refresh: opts,
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false), confidential.WithHTTPClient(hc)}}
}

func TestMSALColdCrowdCausesOneTokenRequest(t *testing.T) {
	s := idp(t)
	r, err := azure(t, s).ClientSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 1000 {
		wg.Go(func() {
			if tok, err := r.Token(); err == nil && tok.AccessToken != "" {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1000 || s.TokenRequests() != 1 {
		t.Fatalf("%d callers served with %d token requests, want 1000 with 1", ok.Load(), s.TokenRequests())
	}
}

// With 60 s tokens MSAL would go to the network on every call; the engine
// refreshes at 75% of the usable lifetime instead.
func TestMSALShortLivedTokensAreCached(t *testing.T) {
	s := idp(t)
	s.SetLifetime(time.Minute, 0)
	clk := clocktest.New(time.Now())
	var refreshes atomic.Int64
	done := make(chan struct{}, 16)
	r, err := azure(t, s, tokensource.WithClock(clk.Now), tokensource.WithJitter(0),
		tokensource.WithObserver(func(e tokensource.Event) {
			if e.Kind == tokensource.RefreshSucceeded {
				refreshes.Add(1)
				done <- struct{}{}
			}
		})).ClientSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 10000 { // 10 000 calls over 120 s of fake time
		if _, err := r.Token(); err != nil {
			t.Fatal(err)
		}
		if n := s.TokenRequests(); n > refreshes.Load() {
			<-done // let the background refresh land before time moves on
		}
		clk.Advance(12 * time.Millisecond)
	}
	// Usable life 54 s, refresh at 40.5 s: fetches at 0, 40.5 and 81 s.
	if n := s.TokenRequests(); n != 3 {
		t.Fatalf("token requests for 10 000 calls over 2 minutes = %d, want 3", n)
	}
}

func TestMSALRefreshInMovesTheRefreshPoint(t *testing.T) {
	s := idp(t)
	s.SetLifetime(time.Hour, 10*time.Minute)
	events := make(chan tokensource.Event, 4)
	clk := clocktest.New(time.Now())
	start := clk.Now()
	r, err := azure(t, s, tokensource.WithClock(clk.Now), tokensource.WithJitter(0),
		tokensource.WithObserver(func(e tokensource.Event) { events <- e })).ClientSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Token()
	for e := range events {
		if e.Kind != tokensource.RefreshSucceeded {
			continue
		}
		if d := e.RefreshAt.Sub(start); d < 10*time.Minute-2*time.Second || d > 10*time.Minute {
			t.Fatalf("refresh point %v after the fetch, want the hinted 10m (not 75%% of 1h)", d)
		}
		return
	}
}

func TestMSALErrorsAndNoSecretInThem(t *testing.T) {
	s := idp(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), status.Convert(err).Message())
		}
	}

	wrong, _ := azure(t, s, tokensource.WithLogger(logger)).ClientSecret("not-the-" + secret)
	_, err := wrong.Token()
	wrong.Close()
	collect(err)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: %v, want Unauthenticated naming invalid_client", err)
	}

	for mode, want := range map[authority.Mode]codes.Code{
		authority.Fail500: codes.Unavailable, authority.Fail429: codes.Unavailable,
		authority.Garbage: codes.Unavailable, authority.InvalidClient: codes.Unauthenticated,
	} {
		s.SetMode(mode)
		r, _ := azure(t, s, tokensource.WithLogger(logger)).ClientSecret(secret)
		_, err := r.Token()
		r.Close()
		collect(err)
		if status.Code(err) != want {
			t.Errorf("mode %d: %v, want %v", mode, err, want)
		}
	}
	s.SetMode(authority.Healthy)

	// Down after expiry: the cached token runs out while the authority is gone.
	s.SetLifetime(time.Minute, 0)
	clk := clocktest.New(time.Now())
	r, _ := azure(t, s, tokensource.WithClock(clk.Now), tokensource.WithLogger(logger)).ClientSecret(secret)
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	clk.Advance(2 * time.Minute)
	_, err = r.Token()
	r.Close() // waits for the fetch goroutine, and so for its log lines
	collect(err)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("authority down after expiry: %v, want Unavailable", err)
	}

	for _, text := range append(errs, logs.String()) {
		if strings.Contains(text, secret) {
			t.Fatalf("the client secret leaked: %s", text)
		}
		if strings.Contains(text, "AADSTS") {
			t.Fatalf("a response body leaked: %s", text)
		}
	}
	if !strings.Contains(logs.String(), "token refresh failed") {
		t.Fatalf("failures were not logged:\n%s", logs.String())
	}
}

func TestWorkloadIdentityRereadsTheFederatedTokenFile(t *testing.T) {
	s := idp(t)
	s.Register("wi-app", authority.Client{Identity: authority.Identity{Name: "wi", OID: "o-2"}})
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	os.WriteFile(file, []byte("h.first.sig\n"), 0o600)
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AZURE_CLIENT_ID", "wi-app")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	a := azure(t, s)
	a.TenantID, a.ClientID = "", ""
	s.SetLifetime(time.Minute, 0) // too short for MSAL's cache: every fetch asks again
	r, err := a.WorkloadIdentity()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	if got := s.LastAssertion(); got != "h.first.sig" {
		t.Fatalf("assertion %q", got)
	}
	os.WriteFile(file, []byte("h.second.sig"), 0o600) // the kubelet rotates it
	r.Invalidate(r.Generation())
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	if got := s.LastAssertion(); got != "h.second.sig" {
		t.Fatalf("assertion after rotation %q, want the new file content", got)
	}
}

func TestClientCertificate(t *testing.T) {
	s := idp(t)
	s.Register("cert-app", authority.Client{Identity: authority.Identity{Name: "c", OID: "o-3"}})
	a := azure(t, s)
	a.ClientID = "cert-app"
	r, err := a.ClientCertificate(rsaCertPEM(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Token(); err != nil {
		t.Fatalf("certificate credential: %v", err)
	}
	if strings.Count(s.LastAssertion(), ".") != 2 {
		t.Fatal("no signed assertion was sent")
	}
	if _, err := a.ClientCertificate([]byte("garbage"), ""); err == nil {
		t.Fatal("garbage certificate PEM accepted")
	}
}

func rsaCertPEM(t *testing.T) []byte {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cert-app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

func TestDeviceCodeThenSilent(t *testing.T) {
	s := idp(t)
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	client, err := public.New("cli-app", public.WithAuthority(s.AuthorityURL()),
		public.WithInstanceDiscovery(false), public.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	var prompts []tokensource.DeviceCodePrompt
	r := tokensource.DeviceCode(client, []string{"api://grpccreds/.default"}, func(_ context.Context, p tokensource.DeviceCodePrompt) {
		prompts = append(prompts, p)
	})
	defer r.Close()
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := tokensource.ParseClaims(tok.AccessToken)
	if claims["name"] != authority.User.Name || len(prompts) != 1 || prompts[0].UserCode != "GRPC-CRDS" {
		t.Fatalf("token for %v after prompts %+v", claims["name"], prompts)
	}
	r.Invalidate(r.Generation()) // force another fetch: it must be silent
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	if n := s.DeviceCodeRequests(); n != 1 || len(prompts) != 1 {
		t.Fatalf("device-code requests = %d, prompts = %d; want 1 and 1 (the second fetch is silent)", n, len(prompts))
	}
}
