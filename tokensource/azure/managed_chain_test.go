package azure

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// notIMDS are things that answer at 169.254.169.254 off an Azure host with
// a managed identity, as users have seen them (azidentity treats each as
// "managed identity not available").
var notIMDS = []struct {
	name, contentType string
	code              int
	body              string
	says              string // what the error of ManagedIdentity alone says
	want              codes.Code
}{
	{"Docker Desktop", "text/plain", http.StatusForbidden,
		"connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: connect: host is unreachable",
		"unreachable", codes.Unavailable},
	{"proxy", "text/html", http.StatusOK,
		"<html><body>Welcome to the corporate proxy</body></html>", "not with a token response", codes.Unavailable},
	{"VM without identity", "application/json", http.StatusBadRequest,
		`{"error":"invalid_request","error_description":"Identity not found"}`, "HTTP 400 for the system-assigned identity", codes.Unauthenticated},
}

// answering serves every request with code, contentType and body on
// loopback, and returns its address.
func answering(t *testing.T, code int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(code)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// silent accepts connections on loopback and never answers, as something
// on 169.254.169.254 (a VPN, a transparent proxy) may; it returns its
// address.
func silent(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return lis.Addr().String()
}

// Docker Desktop's 403, a proxy's HTML page and IMDS's "no identity here"
// do not end the chain: az is tried, as azidentity's DefaultAzureCredential
// tries the CLIs. Alone, ManagedIdentity still fails, and says why.
func TestDefaultGoesOnWhenSomethingElseAnswersForIMDS(t *testing.T) {
	for _, tc := range notIMDS {
		t.Run(tc.name, func(t *testing.T) {
			h := newChainHost(t, true)
			h.mi = answering(t, tc.code, tc.contentType, tc.body)
			h.cli(t, "az", azOut)
			if tok, err := h.token(t); err != nil || tok != "az-token" || h.runs("az") != 1 {
				t.Fatalf("chain: %q, %v; az ran %d times; want az's token", tok, err, h.runs("az"))
			}
			_, err := managed(t, ManagedIdentity{}, &loopback{to: h.mi}).Token()
			t.Logf("alone: %v", err)
			if status.Code(err) != tc.want || !strings.Contains(err.Error(), "managed identity: IMDS") || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("alone: %v; want %v naming IMDS and saying %q", err, tc.want, tc.says)
			}
			if strings.Contains(err.Error(), "corporate proxy") || strings.Contains(err.Error(), "Identity not found") {
				t.Fatalf("alone: the error quotes the answer: %v", err)
			}
		})
	}
}

// A managed-identity endpoint that answers with an error of its own is this
// host's managed identity failing: the chain stops there, as azidentity's
// does, and az never stands in.
func TestDefaultStopsAtAManagedIdentityError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		appService bool
		code       int
		body       string
		want       codes.Code
	}{
		{"IMDS 500", false, http.StatusInternalServerError, `{"error":"server_error","error_description":"busy"}`, codes.Unavailable},
		{"IMDS 403 of its own", false, http.StatusForbidden, `{"error":"access_denied","error_description":"denied"}`, codes.Unauthenticated},
		{"App Service 500", true, http.StatusInternalServerError, `{"error":"server_error"}`, codes.Unavailable},
		{"App Service answers HTML", true, http.StatusOK, `<html>maintenance</html>`, codes.Unavailable},
		{"App Service 400", true, http.StatusBadRequest, `{"error":"invalid_request","error_description":"Identity not found"}`, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newChainHost(t, true)
			h.mi = answering(t, tc.code, "application/json", tc.body)
			if tc.appService {
				t.Setenv("IDENTITY_ENDPOINT", "http://"+h.mi+"/msi/token")
				t.Setenv("IDENTITY_HEADER", azuretest.AppServiceHeader)
			}
			h.cli(t, "az", azOut)
			_, err := h.token(t)
			if status.Code(err) != tc.want || !strings.Contains(err.Error(), "stopped at ManagedIdentityCredential") || h.runs("az") != 0 {
				t.Fatalf("%v; az ran %d times; want %v stopping at the managed identity, and no az", err, h.runs("az"), tc.want)
			}
		})
	}
}

// In the chain, IMDS gets about 1 s for its first answer, as in azidentity's
// DefaultAzureCredential: something at 169.254.169.254 that accepts the
// connection and never answers must not hold az back for the whole answer
// bound (10 s).
func TestDefaultProbesASilentIMDS(t *testing.T) {
	h := newChainHost(t, true)
	h.mi = silent(t)
	h.cli(t, "az", azOut)
	began := time.Now()
	tok, err := h.token(t)
	took := time.Since(began)
	if err != nil || tok != "az-token" || h.runs("az") != 1 {
		t.Fatalf("%q, %v; az ran %d times; want az's token", tok, err, h.runs("az"))
	}
	if took > 3*time.Second {
		t.Fatalf("the chain reached az after %v; IMDS's probe should cost about 1s", took)
	}
}

// Alone, ManagedIdentity waits its whole answer bound: there is no next
// credential to hurry to.
func TestManagedIdentitySilentIMDSWaitsItsBound(t *testing.T) {
	managedHost(t)
	const bound = 2 * time.Second
	c := newManagedClient((&loopback{to: silent(t)}).dial)
	c.Transport.(*http.Transport).ResponseHeaderTimeout = bound
	began := time.Now()
	_, err := refresher(t, ManagedIdentity{Scope: scope(t), HTTPClient: c}).Token()
	if took := time.Since(began); status.Code(err) != codes.Unavailable || took < bound-100*time.Millisecond {
		t.Fatalf("%v after %v; want Unavailable after the %v bound", err, took, bound)
	}
}

// AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential leaves nothing to go on
// to: as in azidentity (since 1.13.0), the chain then behaves as
// ManagedIdentity alone and does not probe.
func TestDefaultManagedIdentityAloneDoesNotProbe(t *testing.T) {
	h := newChainHost(t, true)
	h.mi = silent(t)
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential")
	const bound = 2 * time.Second
	d := h.chain(t)
	d.ManagedIdentityHTTPClient.Transport.(*http.Transport).ResponseHeaderTimeout = bound
	began := time.Now()
	_, err := refresher(t, d).Token()
	if took := time.Since(began); status.Code(err) != codes.Unavailable || took < bound-100*time.Millisecond {
		t.Fatalf("%v after %v; want Unavailable after the %v bound", err, took, bound)
	}
}

// Only IMDS is probed: App Service's IDENTITY_ENDPOINT (like Cloud Shell's,
// Arc's...) is configured on purpose, and keeps its whole answer bound in
// the chain.
func TestDefaultDoesNotProbeAppService(t *testing.T) {
	h := newChainHost(t, true)
	h.mi = silent(t)
	t.Setenv("IDENTITY_ENDPOINT", "http://"+h.mi+"/msi/token")
	t.Setenv("IDENTITY_HEADER", azuretest.AppServiceHeader)
	h.cli(t, "az", azOut)
	const bound = 2 * time.Second
	d := h.chain(t)
	d.ManagedIdentityHTTPClient.Transport.(*http.Transport).ResponseHeaderTimeout = bound
	began := time.Now()
	_, _ = refresher(t, d).Token()
	if took := time.Since(began); took < bound-100*time.Millisecond {
		t.Fatalf("the chain gave App Service %v; want its whole %v bound", took, bound)
	}
}

// Once IMDS has answered, later fetches wait the whole answer bound, not the
// probe's second.
func TestDefaultKeepsTheLongerBoundOnceIMDSAnswered(t *testing.T) {
	h := newChainHost(t, true)
	var mu sync.Mutex
	delay := time.Duration(0)
	real := h.mi
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := delay
		mu.Unlock()
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		proxyTo(w, r, real)
	}))
	t.Cleanup(slow.Close)
	h.mi = slow.Listener.Addr().String()
	h.cli(t, "az", azOut)
	g, _ := engine.Of(refresher(t, h.chain(t)))
	first, gen, err := g.TokenGeneration(context.Background(), 0)
	if err != nil || first.AccessToken == "az-token" {
		t.Fatalf("%v; want the managed identity's token", err)
	}
	mu.Lock()
	delay = 1500 * time.Millisecond
	mu.Unlock()
	g.Invalidate(gen)
	next, _, err := g.TokenGeneration(context.Background(), gen)
	if err != nil || next.AccessToken == first.AccessToken || h.runs("az") != 0 {
		t.Fatalf("%v; az ran %d times; want a new managed-identity token after 1.5 s", err, h.runs("az"))
	}
}

// proxyTo sends r on to the managed-identity endpoints at addr and copies
// their answer to w.
func proxyTo(w http.ResponseWriter, r *http.Request, addr string) {
	out := r.Clone(r.Context())
	out.RequestURI, out.URL.Scheme, out.URL.Host = "", "http", addr
	resp, err := (&http.Transport{DisableKeepAlives: true}).RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// slowTokens forwards to the managed-identity endpoints at real, delaying
// token requests (those with the Metadata header) by what delay returns;
// IMDS's probe, without the header, is answered at once. It returns its
// address.
func slowTokens(t *testing.T, real string, delay func() time.Duration) string {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") == "true" {
			select {
			case <-time.After(delay()):
			case <-r.Context().Done():
				return
			}
		}
		proxyTo(w, r, real)
	}))
	t.Cleanup(slow.Close)
	return slow.Listener.Addr().String()
}

// A VM whose IMDS takes longer than the probe's second for its first token
// keeps its managed identity: the probe asks for nothing and is answered at
// once, and the token request gets the whole bound. az never stands in for
// the host's identity.
func TestDefaultSlowFirstIMDSTokenKeepsTheManagedIdentity(t *testing.T) {
	h := newChainHost(t, true)
	h.mi = slowTokens(t, h.mi, func() time.Duration { return 1500 * time.Millisecond })
	h.cli(t, "az", azOut)
	tok, err := h.token(t)
	if err != nil || tok == "az-token" || h.runs("az") != 0 {
		t.Fatalf("%q, %v; az ran %d times; want the managed identity's token", tok, err, h.runs("az"))
	}
}

// Once IMDS has answered as a managed identity (here with a 500), a later
// timeout of it does not let az stand in: the chain stops at the managed
// identity.
func TestDefaultIMDSTimeoutAfterItAnsweredStopsTheChain(t *testing.T) {
	h := newChainHost(t, true)
	var mu sync.Mutex
	fail, hang := true, false
	real := h.mi
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f, hg := fail, hang
		mu.Unlock()
		switch {
		case r.Header.Get("Metadata") != "true":
			proxyTo(w, r, real) // the probe
		case f:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"server_error","error_description":"busy"}`))
		case hg:
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	h.mi = srv.Listener.Addr().String()
	h.cli(t, "az", azOut)
	d := h.chain(t)
	d.ManagedIdentityHTTPClient = h.client()
	d.ManagedIdentityHTTPClient.Transport.(*http.Transport).ResponseHeaderTimeout = 500 * time.Millisecond // the answer bound, shortened
	src, err := d.TokenSource()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.TokenContext(context.Background()); err == nil || !strings.Contains(err.Error(), "stopped at ManagedIdentityCredential") {
		t.Fatalf("IMDS 500: %v; want the chain stopped at the managed identity", err)
	}
	mu.Lock()
	fail, hang = false, true
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := src.TokenContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "stopped at ManagedIdentityCredential") || h.runs("az") != 0 {
		t.Fatalf("IMDS silent after answering: got a token %v, %v; az ran %d times; want no az", tok != nil, err, h.runs("az"))
	}
}
