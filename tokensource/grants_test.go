package tokensource_test

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// endpoint is a token endpoint stand-in over HTTPS on 127.0.0.1: it records
// each request's form and basic-auth user, and answers with answer.
type endpoint struct {
	mu     sync.Mutex
	forms  []url.Values
	basic  []string
	code   int
	answer map[string]any
	srv    *httptest.Server
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{code: 200, answer: map[string]any{"access_token": "issued", "token_type": "Bearer", "expires_in": 3600}}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		user, _, _ := r.BasicAuth()
		e.mu.Lock()
		e.forms = append(e.forms, r.PostForm)
		e.basic = append(e.basic, user)
		code, answer := e.code, e.answer
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
}

func (e *endpoint) cfg() *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: "client-1", TokenURL: e.srv.URL + "/token", Scopes: []string{"api://down/.default"}}
}

func (e *endpoint) last(t *testing.T) (url.Values, string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.forms) == 0 {
		t.Fatal("no request reached the token endpoint")
	}
	return e.forms[len(e.forms)-1], e.basic[len(e.basic)-1]
}

func (e *endpoint) requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.forms)
}

func (e *endpoint) set(code int, answer map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.code, e.answer = code, answer
}

func want(t *testing.T, form url.Values, key, value string) {
	t.Helper()
	if got := form.Get(key); got != value {
		t.Errorf("%s = %q, want %q", key, got, value)
	}
}

func TestClientCredentialsWithAssertion(t *testing.T) {
	e := newEndpoint(t)
	k := ecKey(t, elliptic.P256())
	sign, err := tokensource.SignedAssertion("client-1", k)
	if err != nil {
		t.Fatal(err)
	}
	src := tokensource.ClientCredentials(e.ctx(), e.cfg(), tokensource.WithClientAssertion(sign))
	tok, err := src.TokenContext(context.Background())
	if err != nil || tok.AccessToken != "issued" {
		t.Fatalf("%v %v", tok, err)
	}
	form, basic := e.last(t)
	want(t, form, "grant_type", "client_credentials")
	want(t, form, "client_id", "client-1")
	want(t, form, "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	want(t, form, "scope", "api://down/.default")
	if form.Has("client_secret") || basic != "" {
		t.Errorf("a secret or basic auth was sent with an assertion: %v, %q", form, basic)
	}
	if _, err := parseWith(form.Get("client_assertion"), k.Public(), e.cfg().TokenURL); err != nil {
		t.Fatalf("the assertion sent does not verify for the token endpoint: %v", err)
	}
	first := form.Get("client_assertion")
	src.TokenContext(context.Background())
	if form, _ := e.last(t); form.Get("client_assertion") == first {
		t.Fatal("the same assertion was sent twice")
	}

	cfg := e.cfg()
	cfg.ClientSecret = "s3cr3t"
	before := e.requests()
	_, err = tokensource.ClientCredentials(e.ctx(), cfg, tokensource.WithClientAssertion(sign)).TokenContext(context.Background())
	if status.Code(err) != codes.Unauthenticated || strings.Contains(err.Error(), "s3cr3t") || e.requests() != before {
		t.Fatalf("secret and assertion both set: %v (requests %d → %d)", err, before, e.requests())
	}
}

func TestJWTBearerReadsItsAssertionEachFetch(t *testing.T) {
	e := newEndpoint(t)
	file := filepath.Join(t.TempDir(), "token")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := e.cfg()
	cfg.ClientID = "" // no client authentication
	src := tokensource.JWTBearer(e.ctx(), cfg, tokensource.File{Path: file})
	for _, a := range []string{"eyJh.first.sig", "eyJh.second.sig"} {
		write(a)
		if _, err := src.TokenContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		form, basic := e.last(t)
		want(t, form, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		want(t, form, "assertion", a)
		if form.Has("client_id") || basic != "" {
			t.Errorf("client authentication sent though none was configured: %v %q", form, basic)
		}
	}
	os.Remove(file)
	before := e.requests()
	if _, err := src.TokenContext(context.Background()); status.Code(err) != codes.Unavailable || e.requests() != before {
		t.Fatalf("missing assertion file: %v, requests %d → %d", err, before, e.requests())
	}
}

func TestTokenExchangeRequest(t *testing.T) {
	e := newEndpoint(t)
	e.set(200, map[string]any{"access_token": "exchanged", "token_type": "Bearer", "expires_in": 60,
		"issued_token_type": tokensource.AccessTokenType})
	static := func(s string) tokensource.Func {
		return func(context.Context) (*oauth2.Token, error) { return &oauth2.Token{AccessToken: s}, nil }
	}
	cfg := e.cfg()
	cfg.ClientSecret = "s3cr3t"
	src := tokensource.TokenExchange(e.ctx(), cfg, tokensource.Exchange{
		SubjectToken: static("subject-jwt"), ActorToken: static("actor-jwt"), ActorTokenType: tokensource.JWTTokenType,
		Audience: []string{"api://a", "api://b"}, Resource: []string{"https://r.example/"},
	})
	tok, err := src.TokenContext(context.Background())
	if err != nil || tok.AccessToken != "exchanged" {
		t.Fatalf("%v %v", tok, err)
	}
	form, _ := e.last(t)
	want(t, form, "grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
	want(t, form, "subject_token", "subject-jwt")
	want(t, form, "subject_token_type", tokensource.AccessTokenType)
	want(t, form, "actor_token", "actor-jwt")
	want(t, form, "actor_token_type", tokensource.JWTTokenType)
	want(t, form, "resource", "https://r.example/")
	want(t, form, "client_id", "client-1")
	want(t, form, "client_secret", "s3cr3t")
	if got := form["audience"]; len(got) != 2 || got[0] != "api://a" || got[1] != "api://b" {
		t.Errorf("audience %v", got)
	}
	if form.Has("requested_token_type") {
		t.Error("requested_token_type sent though none was asked for")
	}
}

func TestTokenExchangeChecksTheAnswer(t *testing.T) {
	e := newEndpoint(t)
	subject := tokensource.Func(func(context.Context) (*oauth2.Token, error) { return &oauth2.Token{AccessToken: "subject-jwt"}, nil })
	answer := func(issued, typ string) map[string]any {
		m := map[string]any{"access_token": "exchanged-secret", "token_type": typ, "expires_in": 60}
		if issued != "" {
			m["issued_token_type"] = issued
		}
		return m
	}
	for _, tc := range []struct {
		name      string
		requested string
		answer    map[string]any
		ok        bool
	}{
		{"access token", "", answer(tokensource.AccessTokenType, "Bearer"), true},
		{"JWT, bearer in lower case", "", answer(tokensource.JWTTokenType, "bearer"), true},
		{"JWT as requested", tokensource.JWTTokenType, answer(tokensource.JWTTokenType, "Bearer"), true},
		{"no issued_token_type", "", answer("", "Bearer"), false},
		{"an ID token", "", answer(tokensource.IDTokenType, "Bearer"), false},
		{"not what was requested", tokensource.JWTTokenType, answer(tokensource.AccessTokenType, "Bearer"), false},
		{"N_A, not a bearer token", "", answer(tokensource.AccessTokenType, "N_A"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.set(200, tc.answer)
			_, err := tokensource.TokenExchange(e.ctx(), e.cfg(), tokensource.Exchange{SubjectToken: subject, RequestedTokenType: tc.requested}).
				TokenContext(context.Background())
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if err != nil && (status.Code(err) != codes.Unauthenticated || strings.Contains(err.Error(), "exchanged-secret")) {
				t.Fatalf("err %v: want Unauthenticated without the token", err)
			}
		})
	}
	if _, err := tokensource.TokenExchange(e.ctx(), e.cfg(), tokensource.Exchange{}).TokenContext(context.Background()); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no subject token: %v", err)
	}
}

// TestGrantErrorsKeepTheRules: through the engine, a refusal is
// Unauthenticated and a failure Unavailable, and no message holds the
// assertion, the secret or the body.
func TestGrantErrorsKeepTheRules(t *testing.T) {
	e := newEndpoint(t)
	k := ecKey(t, elliptic.P256())
	sign, _ := tokensource.SignedAssertion("client-1", k)
	var sent string
	spy := tokensource.ClientAssertion(func(ctx context.Context, url string) (string, error) {
		a, err := sign(ctx, url)
		sent = a
		return a, err
	})
	for _, tc := range []struct {
		code int
		body map[string]any
		want codes.Code
	}{
		{401, map[string]any{"error": "invalid_client", "error_description": "body-secret-1"}, codes.Unauthenticated},
		{400, map[string]any{"error": "invalid_grant", "error_description": "body-secret-2"}, codes.Unauthenticated},
		{503, map[string]any{"error": "temporarily_unavailable", "error_description": "body-secret-3"}, codes.Unavailable},
		{429, map[string]any{"error": "slow_down", "error_description": "body-secret-4"}, codes.Unavailable},
	} {
		e.set(tc.code, tc.body)
		r, err := tokensource.Refreshing(tokensource.ClientCredentials(e.ctx(), e.cfg(), tokensource.WithClientAssertion(spy)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.TokenContext(context.Background())
		r.Close()
		if status.Code(err) != tc.want {
			t.Errorf("%d %v: %v, want %v", tc.code, tc.body["error"], err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "body-secret") || strings.Contains(err.Error(), sent) || strings.Contains(err.Error(), strings.Split(sent, ".")[2])) {
			t.Errorf("the error quotes the body or the assertion: %v", err)
		}
	}
}

// TestClientCredentialsRemembersTheAuthStyle: against a server that takes the
// secret only in the body, x/oauth2 probes basic authentication once and
// then remembers; ClientCredentials must not make it probe on every fetch.
func TestClientCredentialsRemembersTheAuthStyle(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if _, _, basic := r.BasicAuth(); basic || r.PostForm.Get("client_secret") != "s3cr3t" {
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(map[string]any{"error": "invalid_client"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "issued", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer srv.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	src := tokensource.ClientCredentials(ctx, &clientcredentials.Config{ClientID: "c", ClientSecret: "s3cr3t", TokenURL: srv.URL})
	for range 3 {
		if _, err := src.TokenContext(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := requests.Load(); n != 4 {
		t.Fatalf("3 fetches made %d requests, want 4 (one probe, then the style remembered)", n)
	}
}

// TestNilSourcesAreErrorsNotPanics: a nil assertion or subject source fails
// the fetch (Unauthenticated) instead of crashing the fetch goroutine.
func TestNilSourcesAreErrorsNotPanics(t *testing.T) {
	e := newEndpoint(t)
	var nilFile *tokensource.File
	var nilFunc tokensource.Func
	for name, f := range map[string]tokensource.Func{
		"JWTBearer(nil)":           tokensource.JWTBearer(e.ctx(), e.cfg(), nil),
		"JWTBearer(typed nil)":     tokensource.JWTBearer(e.ctx(), e.cfg(), nilFile),
		"ClientAssertionFrom(nil)": tokensource.ClientCredentials(e.ctx(), e.cfg(), tokensource.WithClientAssertion(tokensource.ClientAssertionFrom(nilFunc))),
		"TokenExchange(typed nil)": tokensource.TokenExchange(e.ctx(), e.cfg(), tokensource.Exchange{SubjectToken: nilFunc}),
	} {
		if _, err := f(context.Background()); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
		}
	}
	if e.requests() != 0 {
		t.Fatalf("%d requests sent without a token to send", e.requests())
	}
}
