package serverauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// introspection is an HTTPS RFC 7662 endpoint that knows the opaque tokens
// in answers and authenticates its client as "api" / "api-secret".
type introspection struct {
	srv      *httptest.Server
	mu       sync.Mutex
	answers  map[string]map[string]any
	status   int    // if not 0, every answer is this status
	raw      string // if not "", every answer is this body
	delay    time.Duration
	requests atomic.Int64
}

func startIntrospection(t *testing.T) *introspection {
	in := &introspection{answers: map[string]map[string]any{}}
	in.srv = httptest.NewTLSServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *introspection) serve(w http.ResponseWriter, r *http.Request) {
	in.requests.Add(1)
	in.mu.Lock()
	st, raw, answer, delay := in.status, in.raw, in.answers[r.PostFormValue("token")], in.delay
	in.mu.Unlock()
	time.Sleep(delay)
	id, secret, _ := r.BasicAuth()
	switch {
	case st != 0:
		http.Error(w, "no", st)
		return
	case raw != "":
		w.Write([]byte(raw))
		return
	case r.Method != http.MethodPost || id != "api" || secret != "api-secret" || r.PostFormValue("token_type_hint") != "access_token":
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case answer == nil:
		answer = map[string]any{"active": false}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// issue makes tok an active token with the given members added to a
// typical answer.
func (in *introspection) issue(tok string, members map[string]any) {
	answer := map[string]any{"active": true, "client_id": "trading-app", "sub": "trading-app", "aud": audience,
		"iss": testIssuer, "scope": "orders.read", "exp": time.Now().Add(time.Hour).Unix(), "token_type": "Bearer"}
	for k, v := range members {
		if v == nil {
			delete(answer, k)
		} else {
			answer[k] = v
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.answers[tok] = answer
}

func (in *introspection) set(mut func(*introspection)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	mut(in)
}

func (in *introspection) config() Config {
	return Config{HTTPClient: in.srv.Client(), Introspection: &Introspection{URL: in.srv.URL,
		ClientID: "api", ClientSecret: "api-secret", Audiences: []string{audience}, Issuer: testIssuer}}
}

// An opaque token is admitted as the endpoint says: active, not expired,
// for this API, from the issuer; its scope authorizes methods as a JWT's
// would, and its members are the call's claims.
func TestIntrospectionAdmitsWhatTheEndpointSays(t *testing.T) {
	in := startIntrospection(t)
	cfg := in.config()
	cfg.MethodScopes = map[string][]string{"/trading.v1.Orders/List": {"orders.read"}, "/trading.v1.Orders/Place": {"orders.write"}}
	v := must(NewVerifier(cfg))
	defer v.Close()
	in.issue("good", nil)
	in.issue("expired", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	in.issue("other-api", map[string]any{"aud": []string{"api://other"}})
	in.issue("no-aud", map[string]any{"aud": nil})
	in.issue("other-issuer", map[string]any{"iss": "https://evil.test"})
	in.issue("active-as-string", map[string]any{"active": "true"})
	in.issue("refresh-token", map[string]any{"token_type": "refresh_token"})
	in.issue("access-token-type", map[string]any{"token_type": "access_token"})
	in.issue("no-token-type", map[string]any{"token_type": nil})
	for name, tc := range map[string]struct {
		tok, method string
		want        codes.Code
	}{
		"active, scope granted":     {"good", "/trading.v1.Orders/List", codes.OK},
		"active, scope not granted": {"good", "/trading.v1.Orders/Place", codes.PermissionDenied},
		"inactive":                  {"unknown", "/trading.v1.Orders/List", codes.Unauthenticated},
		"expired though active":     {"expired", "/trading.v1.Orders/List", codes.Unauthenticated},
		"for another API":           {"other-api", "/trading.v1.Orders/List", codes.Unauthenticated},
		"no aud":                    {"no-aud", "/trading.v1.Orders/List", codes.Unauthenticated},
		"another issuer":            {"other-issuer", "/trading.v1.Orders/List", codes.Unauthenticated},
		`"active": "true"`:          {"active-as-string", "/trading.v1.Orders/List", codes.Unauthenticated},
		"a refresh token":           {"refresh-token", "/trading.v1.Orders/List", codes.Unauthenticated},
		"token_type access_token":   {"access-token-type", "/trading.v1.Orders/List", codes.OK},
		"no token_type":             {"no-token-type", "/trading.v1.Orders/List", codes.OK},
	} {
		if _, err := callAs(v, tc.method, tc.tok); code(err) != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	ctx, err := callAs(v, "/trading.v1.Orders/List", "good")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := ClaimsFromContext(ctx); !ok || c["client_id"] != "trading-app" || c["scope"] != "orders.read" {
		t.Errorf("claims = %v", c)
	}
}

// An endpoint that cannot answer gives Unavailable, never a pass: down,
// refusing this API's credentials, or answering garbage.
func TestIntrospectionEndpointTroubleIsUnavailable(t *testing.T) {
	for name, tc := range map[string]struct {
		mut func(*introspection)
		cfg func(*Config)
	}{
		"HTTP 503":            {func(in *introspection) { in.status = http.StatusServiceUnavailable }, nil},
		"HTTP 429":            {func(in *introspection) { in.status = http.StatusTooManyRequests }, nil},
		"wrong client":        {nil, func(c *Config) { c.Introspection.ClientSecret = "wrong" }},
		"unreachable":         {func(in *introspection) { in.srv.Close() }, nil},
		"a login page":        {func(in *introspection) { in.raw = "<html>sign in</html>" }, nil},
		"JSON, not an object": {func(in *introspection) { in.raw = `[{"active": true}]` }, nil},
		"null":                {func(in *introspection) { in.raw = "null" }, nil},
		"answers too slowly":  {func(in *introspection) { in.delay = 300 * time.Millisecond }, nil},
	} {
		t.Run(name, func(t *testing.T) {
			old := fetchTimeout
			fetchTimeout = 100 * time.Millisecond
			t.Cleanup(func() { fetchTimeout = old })
			in := startIntrospection(t)
			in.issue("good", nil)
			cfg := in.config()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if tc.mut != nil {
				in.set(tc.mut)
			}
			v := must(NewVerifier(cfg))
			defer v.Close()
			if _, err := v.Verify(context.Background(), "good"); code(err) != codes.Unavailable {
				t.Errorf("%v, want Unavailable", err)
			}
		})
	}
}

// An active answer is cached until exp, never past MaxCacheAge; an
// inactive one is not cached.
func TestIntrospectionCache(t *testing.T) {
	in := startIntrospection(t)
	now := time.Now()
	var clock atomic.Int64
	cfg := in.config()
	cfg.Now = func() time.Time { return now.Add(time.Duration(clock.Load())) }
	cfg.Introspection.MaxCacheAge = 10 * time.Second
	cfg.Leeway = -1 // none, so that exp is exact
	v := must(NewVerifier(cfg))
	defer v.Close()
	in.issue("long", map[string]any{"exp": now.Add(time.Hour).Unix()})
	in.issue("short", map[string]any{"exp": now.Add(5 * time.Second).Unix()})
	ctx := context.Background()
	asks := func(tok string) int64 {
		before := in.requests.Load()
		v.Verify(ctx, tok)
		return in.requests.Load() - before
	}
	for _, step := range []struct {
		at   time.Duration
		tok  string
		asks int64
	}{
		{0, "long", 1}, {0, "long", 0}, {9 * time.Second, "long", 0}, {11 * time.Second, "long", 1}, // MaxCacheAge
		{11 * time.Second, "short", 1},       // the clock is past its exp: refused, after asking
		{0, "unknown", 1}, {0, "unknown", 1}, // inactive: asked every time
	} {
		clock.Store(int64(step.at))
		if got := asks(step.tok); got != step.asks {
			t.Errorf("%s at +%v: %d requests, want %d", step.tok, step.at, got, step.asks)
		}
	}
	clock.Store(0)
	if _, err := v.Verify(ctx, "short"); err != nil {
		t.Fatal(err)
	}
	clock.Store(int64(6 * time.Second)) // past exp, within MaxCacheAge
	before := in.requests.Load()
	if _, err := v.Verify(ctx, "short"); code(err) != codes.Unauthenticated {
		t.Errorf("past the token's exp, within MaxCacheAge: %v, want Unauthenticated", err)
	}
	if n := in.requests.Load() - before; n != 1 {
		t.Errorf("past the token's exp, the cache answered (%d requests)", n)
	}
}

// Callers with the same new token share one request, and a caller that
// gives up does not fail the others.
func TestIntrospectionSharedRequest(t *testing.T) {
	in := startIntrospection(t)
	in.issue("good", nil)
	in.set(func(in *introspection) { in.delay = 500 * time.Millisecond })
	v := must(NewVerifier(in.config()))
	defer v.Close()
	impatient, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	errs := make(chan error, 21)
	go func() { _, err := v.Verify(impatient, "good"); errs <- err }()
	for range 20 {
		go func() { _, err := v.Verify(context.Background(), "good"); errs <- err }()
	}
	var deadline, ok int
	for range 21 {
		switch err := <-errs; code(err) {
		case codes.OK:
			ok++
		case codes.DeadlineExceeded:
			deadline++
		default:
			t.Error(err)
		}
	}
	if ok != 20 || deadline != 1 {
		t.Errorf("%d admitted, %d past their deadline; want 20 and 1", ok, deadline)
	}
	if n := in.requests.Load(); n != 1 {
		t.Errorf("introspection requests = %d, want 1", n)
	}
}

// With Issuers too, JWTs are verified locally and only opaque tokens are
// introspected.
func TestIntrospectionBesideIssuers(t *testing.T) {
	in := startIntrospection(t)
	in.issue("opaque", nil)
	cfg := in.config()
	cfg.Issuers = []Issuer{staticIssuer("k1")}
	v := must(NewVerifier(cfg))
	defer v.Close()
	for tok, want := range map[string]codes.Code{"opaque": codes.OK, sign("k1", baseClaims()): codes.OK, sign("k2", baseClaims()): codes.Unauthenticated} {
		if _, err := v.Verify(context.Background(), tok); code(err) != want {
			t.Errorf("%.20s…: %v, want %v", tok, err, want)
		}
	}
	if n := in.requests.Load(); n != 1 {
		t.Errorf("introspection requests = %d, want 1 (the opaque token only)", n)
	}
}

// The client secret never prints, and the configuration is checked.
func TestIntrospectionConfig(t *testing.T) {
	in := &Introspection{URL: "https://id.example.test/introspect", ClientID: "api", ClientSecret: "s3cret-value"}
	for _, s := range []string{fmt.Sprint(in), fmt.Sprintf("%+v", in), fmt.Sprintf("%#v", in), fmt.Sprintf("%v", Config{Introspection: in})} {
		if strings.Contains(s, "s3cret-value") {
			t.Errorf("printed the secret: %s", s)
		}
	}
	for name, tc := range map[string]Introspection{
		"no audience":       {URL: in.URL},
		"audience and skip": {URL: in.URL, Audiences: []string{"a"}, SkipAudienceCheck: true},
		"secret without id": {URL: in.URL, Audiences: []string{"a"}, ClientSecret: "s"},
		"plain http":        {URL: "http://id.example.test/introspect", Audiences: []string{"a"}},
	} {
		if v, err := NewVerifier(Config{Introspection: &tc}); err == nil {
			v.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}
