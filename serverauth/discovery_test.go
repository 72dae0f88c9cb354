package serverauth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// provider is an HTTPS OpenID Connect provider's discovery document (at
// /realm/.well-known/openid-configuration) pointing at a JWKS.
type provider struct {
	srv      *httptest.Server
	jwks     *jwksServer
	mu       sync.Mutex
	issuer   string // the document's "issuer"; the real one if ""
	jwksURI  string // the document's "jwks_uri"; the JWKS if ""
	down     bool
	requests atomic.Int64
}

func startProvider(t *testing.T, kids ...string) *provider {
	p := &provider{jwks: startJWKS(t, kids...)}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) url() string { return p.srv.URL + "/realm" }

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down || !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
		http.Error(w, "no", http.StatusServiceUnavailable)
		return
	}
	doc := map[string]string{"issuer": p.issuer, "jwks_uri": p.jwksURI, "token_endpoint": p.url() + "/token"}
	if doc["issuer"] == "" {
		doc["issuer"] = p.url()
	}
	if doc["jwks_uri"] == "" {
		doc["jwks_uri"] = p.jwks.srv.URL
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

func (p *provider) set(mut func(*provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mut(p)
}

// config trusts the provider by its URL alone. Both servers' certificates
// come from httptest's one CA, so either client trusts both.
func (p *provider) config() Config {
	return Config{HTTPClient: p.srv.Client(), Issuers: []Issuer{{URL: p.url(), Audiences: []string{audience}}}}
}

func (p *provider) token(kid string) string { return sign(kid, issued(p.url(), audience)) }

// verifyWithin verifies tok with a deadline long enough for a discovery.
func verifyWithin(v *Verifier, tok string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := v.Verify(ctx, tok)
	return err
}

// An issuer URL alone finds the keys through the discovery document.
func TestDiscoveryFindsTheKeys(t *testing.T) {
	p := startProvider(t, "k1")
	v := must(NewVerifier(p.config()))
	defer v.Close()
	if err := verifyWithin(v, p.token("k1")); err != nil {
		t.Fatal(err)
	}
	if err := verifyWithin(v, p.token("k2")); code(err) != codes.Unauthenticated {
		t.Errorf("a key the JWKS does not have: %v", err)
	}
	if n := p.requests.Load(); n != 1 {
		t.Errorf("discovery requests = %d, want 1", n)
	}
}

// A document that speaks for another issuer is refused, as OpenID Connect
// Discovery §4.3 asks: its keys never verify this issuer's tokens, which get
// Unavailable (the issuer cannot be checked), and the log says why.
func TestDiscoveryRefusesAnotherIssuersDocument(t *testing.T) {
	for name, mut := range map[string]func(*provider){
		"another issuer":      func(p *provider) { p.issuer = "https://evil.test/realm" },
		"trailing slash":      func(p *provider) { p.issuer = p.url() + "/" },
		"plain-http jwks_uri": func(p *provider) { p.jwksURI = "http://keys.example.test/jwks" },
		"jwks_uri not a URL":  func(p *provider) { p.jwksURI = " " },
	} {
		p := startProvider(t, "k1")
		p.set(mut)
		var logs strings.Builder
		var mu sync.Mutex
		cfg := p.config()
		cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
		v := must(NewVerifier(cfg))
		err := verifyWithin(v, p.token("k1"))
		v.Close()
		if code(err) != codes.Unavailable {
			t.Errorf("%s: %v, want Unavailable", name, err)
		}
		mu.Lock()
		if !strings.Contains(logs.String(), "discovery failed") {
			t.Errorf("%s: nothing logged:\n%s", name, logs.String())
		}
		mu.Unlock()
	}
}

// A provider that is down at start is asked again with a backoff: tokens
// are Unavailable meanwhile, and verify once it answers.
func TestDiscoveryRetries(t *testing.T) {
	old := discoveryRetry
	discoveryRetry.first, discoveryRetry.most = 20*time.Millisecond, 40*time.Millisecond
	t.Cleanup(func() { discoveryRetry = old })
	p := startProvider(t, "k1")
	p.set(func(p *provider) { p.down = true })
	v := must(NewVerifier(p.config()))
	defer v.Close()
	if err := verifyWithin(v, p.token("k1")); code(err) != codes.Unavailable {
		t.Fatalf("while the provider is down: %v, want Unavailable", err)
	}
	p.set(func(p *provider) { p.down = false })
	var err error
	for range 200 { // 2 s at most
		if err = verifyWithin(v, p.token("k1")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the provider came back: %v", err)
	}
}

// DiscoveryURL serves an issuer whose document is elsewhere (Azure AD's
// v1.0 issuer https://sts.windows.net/<tenant>/ publishes it under
// login.microsoftonline.com), and the document must still name the issuer.
func TestDiscoveryURL(t *testing.T) {
	p := startProvider(t, "k1")
	const v1 = "https://sts.example.test/tenant/"
	p.set(func(p *provider) { p.issuer = v1 })
	cfg := p.config()
	cfg.Issuers[0].URL, cfg.Issuers[0].DiscoveryURL = v1, p.url()+"/.well-known/openid-configuration"
	v := must(NewVerifier(cfg))
	defer v.Close()
	if err := verifyWithin(v, sign("k1", issued(v1, audience))); err != nil {
		t.Fatal(err)
	}
}

// Discovery needs https (or http to loopback) to the document.
func TestDiscoveryNeedsTLS(t *testing.T) {
	for _, is := range []Issuer{
		{URL: "http://id.example.test/realm", Audiences: []string{audience}},
		{URL: testIssuer, Audiences: []string{audience}, DiscoveryURL: "http://id.example.test/.well-known/openid-configuration"},
	} {
		if v, err := NewVerifier(Config{Issuers: []Issuer{is}}); err == nil {
			v.Close()
			t.Errorf("%+v: accepted", is)
		} else if !strings.Contains(err.Error(), "not https") {
			t.Errorf("%+v: %v", is, err)
		}
	}
}
