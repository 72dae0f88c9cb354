package azure_test

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// secretApp is the registered client at s with its secret, for the real
// MSAL code path.
func secretApp(t *testing.T, s *grpccredstest.IdentityProvider) azure.ClientSecret {
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return azure.ClientSecret{TenantID: enginetest.Tenant, ClientID: enginetest.ClientID, Scopes: []string{enginetest.Scope},
		Secret: enginetest.Secret, AuthorityHost: s.URL, HTTPClient: hc,
		MSAL: []confidential.Option{confidential.WithInstanceDiscovery(false)}}
}

// wrongSecret is secretApp with a secret Azure AD refuses.
func wrongSecret(t *testing.T, s *grpccredstest.IdentityProvider) azure.ClientSecret {
	c := secretApp(t, s)
	c.Secret = "not-the-" + enginetest.Secret
	return c
}

func TestMSALColdCrowdCausesOneTokenRequest(t *testing.T) {
	s := enginetest.Authority(t)
	r := refresher(t, secretApp(t, s))
	ok := enginetest.ColdCrowd(r, 1000)
	if ok != 1000 || s.TokenRequests() != 1 {
		t.Fatalf("%d callers served with %d token requests, want 1000 with 1", ok, s.TokenRequests())
	}
}

// With 60 s tokens MSAL would go to the network on every call; the engine
// refreshes at 75% of the usable lifetime instead.
func TestMSALShortLivedTokensAreCached(t *testing.T) {
	s := enginetest.Authority(t)
	s.SetLifetime(time.Minute, 0)
	clk := clocktest.New(time.Now())
	var refreshes atomic.Int64
	done := make(chan struct{}, 16)
	r := refresher(t, secretApp(t, s), tokensource.WithClock(clk.Now), tokensource.WithJitter(0),
		tokensource.WithObserver(func(e tokensource.Event) {
			if e.Kind == tokensource.RefreshSucceeded {
				refreshes.Add(1)
				done <- struct{}{}
			}
		}))
	for range 10000 { // 10 000 calls over 120 s of fake time
		if _, err := r.Token(); err != nil {
			t.Fatal(err)
		}
		if n := s.TokenRequests(); n > refreshes.Load() {
			select { // let the background refresh land before time moves on
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("no refresh within 10s")
			}
		}
		clk.Advance(12 * time.Millisecond)
	}
	// Usable life 54 s, refresh at 40.5 s: fetches at 0, 40.5 and 81 s.
	if n := s.TokenRequests(); n != 3 {
		t.Fatalf("token requests for 10 000 calls over 2 minutes = %d, want 3", n)
	}
}

func TestMSALRefreshInMovesTheRefreshPoint(t *testing.T) {
	s := enginetest.Authority(t)
	s.SetLifetime(time.Hour, 10*time.Minute)
	events := make(chan tokensource.Event, 4)
	clk := clocktest.New(time.Now())
	start := clk.Now()
	r := refresher(t, secretApp(t, s), tokensource.WithClock(clk.Now), tokensource.WithJitter(0),
		tokensource.WithObserver(func(e tokensource.Event) { events <- e }))
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind != tokensource.RefreshSucceeded {
				continue
			}
			if d := e.RefreshAt.Sub(start); d < 10*time.Minute-2*time.Second || d > 10*time.Minute {
				t.Fatalf("refresh point %v after the fetch, want the hinted 10m (not 75%% of 1h)", d)
			}
			return
		case <-timeout:
			t.Fatal("no successful fetch within 10 s")
		}
	}
}

func TestMSALErrorsAndNoSecretInThem(t *testing.T) {
	s := enginetest.Authority(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), status.Convert(err).Message())
		}
	}

	wrong := refresher(t, wrongSecret(t, s), tokensource.WithLogger(logger))
	_, err := wrong.Token()
	wrong.Close()
	collect(err)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong enginetest.Secret: %v, want Unauthenticated naming invalid_client", err)
	}

	for mode, want := range map[grpccredstest.Mode]codes.Code{
		grpccredstest.Fail500: codes.Unavailable, grpccredstest.Fail429: codes.Unavailable,
		grpccredstest.Garbage: codes.Unavailable, grpccredstest.InvalidClient: codes.Unauthenticated,
		grpccredstest.Malformed: codes.Unavailable,
	} {
		s.SetMode(mode)
		r := refresher(t, secretApp(t, s), tokensource.WithLogger(logger))
		_, err := r.Token()
		r.Close()
		collect(err)
		if status.Code(err) != want {
			t.Errorf("mode %d: %v, want %v", mode, err, want)
		}
	}
	s.SetMode(grpccredstest.Healthy)

	// Down after expiry: the cached token runs out while the authority is gone.
	s.SetLifetime(time.Minute, 0)
	clk := clocktest.New(time.Now())
	r := refresher(t, secretApp(t, s), tokensource.WithClock(clk.Now), tokensource.WithLogger(logger))
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	s.SetMode(grpccredstest.Down)
	clk.Advance(2 * time.Minute)
	_, err = r.Token()
	r.Close() // waits for the fetch goroutine, and so for its log lines
	collect(err)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("authority down after expiry: %v, want Unavailable", err)
	}

	for _, text := range append(errs, logs.String()) {
		if strings.Contains(text, enginetest.Secret) {
			t.Fatalf("the client enginetest.Secret leaked: %s", text)
		}
		if strings.Contains(text, "malformed-answer-marker") || strings.Contains(text, "proxy error") {
			t.Fatalf("a response body leaked: %s", text)
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
	s := enginetest.Authority(t)
	s.Register("wi-app", grpccredstest.Client{Identity: grpccredstest.Identity{Name: "wi", OID: "o-2"}})
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	os.WriteFile(file, []byte("h.first.sig\n"), 0o600)
	t.Setenv("AZURE_TENANT_ID", enginetest.Tenant)
	t.Setenv("AZURE_CLIENT_ID", "wi-app")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	a := secretApp(t, s)
	s.SetLifetime(time.Minute, 0) // too short for MSAL's cache: every fetch asks again
	r := refresher(t, azure.WorkloadIdentity{Scopes: a.Scopes, AuthorityHost: a.AuthorityHost, HTTPClient: a.HTTPClient, MSAL: a.MSAL})
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	if got := azuretest.LastAssertion(s); got != "h.first.sig" {
		t.Fatalf("assertion %q", got)
	}
	os.WriteFile(file, []byte("h.second.sig"), 0o600) // the kubelet rotates it
	g := generations(t, r)
	gen := g.Generation()
	g.Invalidate(gen)
	if _, _, err := g.TokenGeneration(context.Background(), gen); err != nil {
		t.Fatal(err)
	}
	if got := azuretest.LastAssertion(s); got != "h.second.sig" {
		t.Fatalf("assertion after rotation %q, want the new file content", got)
	}
}

func TestClientCertificate(t *testing.T) {
	s := enginetest.Authority(t)
	s.Register("cert-app", grpccredstest.Client{Identity: grpccredstest.Identity{Name: "c", OID: "o-3"}})
	a := secretApp(t, s)
	c := azure.ClientCertificate{TenantID: a.TenantID, ClientID: "cert-app", Scopes: a.Scopes, CertificatePEM: enginetest.RSACertPEM(t),
		AuthorityHost: a.AuthorityHost, HTTPClient: a.HTTPClient, MSAL: a.MSAL}
	r := refresher(t, c)
	if _, err := r.Token(); err != nil {
		t.Fatalf("certificate credential: %v", err)
	}
	if strings.Count(azuretest.LastAssertion(s), ".") != 2 {
		t.Fatal("no signed assertion was sent")
	}
	c.CertificatePEM = []byte("garbage")
	if _, err := c.TokenSource(); err == nil || !strings.HasPrefix(err.Error(), "azure: client certificate: ") {
		t.Fatalf("garbage certificate PEM: %v, want an error starting azure: client certificate:", err)
	}
}

// The first fetch prompts; a fetch that replaces the token (here after
// Invalidate) is silent and redeems the refresh token for a new access token,
// rather than taking MSAL's cached one.
func TestDeviceCodeReplacingFetchIsSilentAndNew(t *testing.T) {
	s := enginetest.Authority(t)
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	client, err := public.New("cli-app", public.WithAuthority(s.AuthorityURL),
		public.WithInstanceDiscovery(false), public.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	var prompts []azure.DeviceCodePrompt
	f, opts := enginetest.New(t)
	r := refresher(t, azure.DeviceCode{Client: client, Scopes: []string{"api://grpccreds/.default"},
		Prompt: func(_ context.Context, p azure.DeviceCodePrompt) { prompts = append(prompts, p) }}, opts...)
	first, _, err := f.Call(r)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := jwtpeek.Claims(first.AccessToken)
	if claims["name"] != azuretest.User().Name || len(prompts) != 1 || prompts[0].UserCode != "GRPC-CRDS" {
		t.Fatalf("token for %v after prompts %+v", claims["name"], prompts)
	}
	requests := s.TokenRequests()
	invalidate(t, r) // force another fetch: it must be silent
	r.Token()
	if e := f.Outcome(); e.Kind != tokensource.RefreshSucceeded {
		t.Fatalf("refresh after Invalidate: %v", e.Err)
	}
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if n := azuretest.DeviceCodeRequests(s); n != 1 || len(prompts) != 1 {
		t.Fatalf("device-code requests = %d, prompts = %d; want 1 and 1 (the second fetch is silent)", n, len(prompts))
	}
	if tok.AccessToken == first.AccessToken || s.TokenRequests() != requests+1 || azuretest.ClaimsRequests(s) != 1 {
		t.Fatalf("new token: %v, token requests %d more, with claims %d; want a new token from one refresh-token request with claims",
			tok.AccessToken != first.AccessToken, s.TokenRequests()-requests, azuretest.ClaimsRequests(s))
	}
}

// notBefore reads the nbf claim of an access token.
func notBefore(t *testing.T, access string) int64 {
	t.Helper()
	claims, err := jwtpeek.Claims(access)
	if err != nil {
		t.Fatal(err)
	}
	nbf, _ := claims["nbf"].(float64)
	return int64(nbf)
}

// MSAL would return its cached token (its cache runs on the real clock) until
// 5 minutes before expiry; each refresh of the engine must reach the authority
// and bring a new token.
func TestMSALEachRefreshFetchesANewToken(t *testing.T) {
	s := enginetest.Authority(t)
	s.SetLifetime(time.Hour, 0)
	f, opts := enginetest.New(t)
	r := refresher(t, secretApp(t, s), opts...)
	// Usable life 1h − 30s leeway = 59m30s; refresh at the earlier of 54m30s
	// (5 min before) and 75 % = 44m37.5s, i.e. at the next call, a whole minute.
	const refreshAfter = 44*time.Minute + 37500*time.Millisecond
	start := f.Clock.Now()
	var at []time.Duration // fake time of each token request
	tokens := map[string]bool{}
	for range 180 { // a call every minute for 3 hours
		before := s.TokenRequests()
		tok, _, err := f.Call(r)
		if err != nil {
			t.Fatalf("call at %v: %v", f.Clock.Now().Sub(start), err)
		}
		tokens[tok.AccessToken] = true
		if s.TokenRequests() > before {
			at = append(at, f.Clock.Now().Sub(start))
		}
		f.Clock.Advance(time.Minute)
	}
	want := []time.Duration{0, 45 * time.Minute, 90 * time.Minute, 135 * time.Minute}
	if !slices.Equal(at, want) {
		t.Fatalf("token requests at %v, want one at each refresh point: %v", at, want)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i] - at[i-1]; gap < refreshAfter || gap >= refreshAfter+time.Minute {
			t.Fatalf("request %d came %v after the previous one, want the first call after %v", i+1, gap, refreshAfter)
		}
	}
	if len(tokens) != 4 || azuretest.ClaimsRequests(s) != 3 {
		t.Fatalf("%d distinct tokens, %d requests with claims; want 4 and 3 (every refresh bypasses MSAL's cache)",
			len(tokens), azuretest.ClaimsRequests(s))
	}
}

// The authority is down from 50 % to 95 % of a 1 h token's lifetime: every
// call is still served, and the first retry after it returns brings a new
// token.
func TestMSALOutageMidLifetime(t *testing.T) {
	s := enginetest.Authority(t)
	s.SetLifetime(time.Hour, 0)
	f, opts := enginetest.New(t)
	opts = append(opts, tokensource.WithBackoff(time.Second, time.Minute))
	r := refresher(t, secretApp(t, s), opts...)
	var first, last string
	var failedCalls, failedRefreshes int
	renewedAt := -1
	for m := range 75 {
		enginetest.Outage(t, s, m)
		tok, e, err := f.Call(r)
		f.Clock.Advance(time.Minute)
		if err != nil {
			failedCalls++
			continue
		}
		first, last = cmp.Or(first, tok.AccessToken), tok.AccessToken
		switch {
		case e == nil:
		case e.Kind == tokensource.RefreshFailed:
			failedRefreshes++
		case m > 0 && renewedAt < 0:
			renewedAt = m
		}
	}
	if failedCalls != 0 || failedRefreshes == 0 {
		t.Fatalf("%d failed calls, %d failed refreshes; want 0 and some", failedCalls, failedRefreshes)
	}
	if renewedAt != 57 || last == first || s.TokenRequests() != 2 || azuretest.ClaimsRequests(s) != 1 {
		t.Fatalf("renewed at minute %d (new token: %v) with %d token requests, %d with claims; want minute 57, a new token, 2 and 1",
			renewedAt, last != first, s.TokenRequests(), azuretest.ClaimsRequests(s))
	}
}

// After Invalidate (the server refused the token) MSAL must not hand back the
// same token from its cache.
func TestMSALInvalidateFetchesANewToken(t *testing.T) {
	s := enginetest.Authority(t)
	f, opts := enginetest.New(t)
	r := refresher(t, secretApp(t, s), opts...)
	first, _, err := f.Call(r)
	if err != nil {
		t.Fatal(err)
	}
	asked := time.Now().Unix()
	invalidate(t, r)
	r.Token() // waits for the new token, or starts its fetch, depending on the engine
	if e := f.Outcome(); e.Kind != tokensource.RefreshSucceeded {
		t.Fatalf("refresh after Invalidate: %v", e.Err)
	}
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == first.AccessToken || s.TokenRequests() != 2 || azuretest.ClaimsRequests(s) != 1 {
		t.Fatalf("new token: %v, token requests %d, with claims %d; want a new token, 2 and 1",
			tok.AccessToken != first.AccessToken, s.TokenRequests(), azuretest.ClaimsRequests(s))
	}
	if nbf := notBefore(t, tok.AccessToken); nbf < asked {
		t.Fatalf("new token's nbf is %d s before the Invalidate; the claims request did not reach the authority", asked-nbf)
	}
}
