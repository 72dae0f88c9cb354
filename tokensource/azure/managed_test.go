package azure

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"github.com/grpccreds/grpccreds/tokensource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The identities the test authority's managed-identity endpoints know.
var (
	systemMI = azuretest.ManagedIdentity{Identity: grpccredstest.Identity{Name: "vm", OID: "oid-system"}}
	userMI   = azuretest.ManagedIdentity{ClientID: "mi-client-1", ObjectID: "mi-object-1",
		ResourceID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1",
		Identity:   grpccredstest.Identity{Name: "u1", OID: "oid-user"}}
)

// loopback is a dialer that connects to the test authority's
// managed-identity endpoints whatever address it is asked for, so IMDS's
// 169.254.169.254 is never dialled, and records what it was asked.
type loopback struct {
	to    string
	mu    sync.Mutex
	asked []string
}

func (l *loopback) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	l.mu.Lock()
	l.asked = append(l.asked, addr)
	l.mu.Unlock()
	return (&net.Dialer{}).DialContext(ctx, "tcp", l.to)
}

func (l *loopback) addrs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.asked...)
}

// managedHost starts the authority with both identities, clears the
// environment variables MSAL reads to pick a host, and returns the authority
// and a loopback dialer to it.
func managedHost(t *testing.T) (*grpccredstest.IdentityProvider, *loopback) {
	t.Helper()
	s := enginetest.Authority(t)
	azuretest.AddManagedIdentity(s, systemMI)
	azuretest.AddManagedIdentity(s, userMI)
	for _, k := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	return s, &loopback{to: azuretest.ManagedIdentityAddr(s)}
}

// scope is a resource of the test's own: MSAL's managed-identity token cache
// is one per process, so tests (and repeated runs, -count) must not share
// resources.
func scope(t *testing.T) string { return resource(strings.ToLower(t.Name())) + "/.default" }

var runs atomic.Int64

// resource names a resource no earlier test or run in this process used.
func resource(name string) string { return fmt.Sprintf("api://%s-%d", name, runs.Add(1)) }

// managed returns the engine, configured by opts, in front of m, reaching
// the endpoints through l.
func managed(t *testing.T, m ManagedIdentity, l *loopback, opts ...tokensource.Option) *tokensource.Refresher {
	t.Helper()
	m.HTTPClient = newManagedClient(l.dial)
	if m.Scope == "" {
		m.Scope = scope(t)
	}
	return refresher(t, m, opts...)
}

// oid fetches a token from r and returns its oid and aud claims.
func oid(t *testing.T, r *tokensource.Refresher) (string, string) {
	t.Helper()
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwtpeek.Claims(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	oid, _ := c["oid"].(string)
	aud, _ := c["aud"].(string)
	return oid, aud
}

func TestManagedIdentityIMDS(t *testing.T) {
	s, l := managedHost(t)
	for _, tc := range []struct {
		name string
		m    ManagedIdentity
		want string
	}{
		{"system", ManagedIdentity{}, "oid-system"},
		{"client", ManagedIdentity{ClientID: userMI.ClientID}, "oid-user"},
		{"object", ManagedIdentity{ObjectID: userMI.ObjectID}, "oid-user"},
		{"resource", ManagedIdentity{ResourceID: userMI.ResourceID}, "oid-user"},
	} {
		res := resource("imds-" + tc.name)
		tc.m.Scope = res + "/.default"
		got, aud := oid(t, managed(t, tc.m, l))
		if got != tc.want || aud != res {
			t.Errorf("%s: oid %q aud %q, want %q for api://imds-%s", tc.name, got, aud, tc.want, tc.name)
		}
	}
	for _, a := range l.addrs() {
		if a != "169.254.169.254:80" {
			t.Fatalf("the IMDS client asked for %s", a)
		}
	}
	if n := azuretest.ManagedIdentityRequests(s); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

func TestManagedIdentityAppService(t *testing.T) {
	s, l := managedHost(t)
	t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/msi/token")
	t.Setenv("IDENTITY_HEADER", azuretest.AppServiceHeader)
	if got, _ := oid(t, managed(t, ManagedIdentity{ClientID: userMI.ClientID}, l)); got != "oid-user" {
		t.Fatalf("oid %q, want oid-user", got)
	}
	if a := l.addrs(); len(a) != 1 || a[0] != azuretest.ManagedIdentityAddr(s) {
		t.Fatalf("dialled %q, want the App Service endpoint", a)
	}
}

func TestManagedIdentityCloudShellAndAzureML(t *testing.T) {
	s, l := managedHost(t)
	t.Setenv("MSI_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/msi/token")
	if got, _ := oid(t, managed(t, ManagedIdentity{Scope: resource("cloudshell") + "/.default"}, l)); got != "oid-system" {
		t.Fatalf("Cloud Shell: oid %q, want oid-system", got)
	}
	t.Setenv("MSI_SECRET", azuretest.AzureMLSecret)
	if got, _ := oid(t, managed(t, ManagedIdentity{ClientID: userMI.ClientID, Scope: resource("azureml") + "/.default"}, l)); got != "oid-user" {
		t.Fatalf("Azure ML: oid %q, want oid-user", got)
	}
}

// Azure Arc challenges for a key that the agent keeps in a file MSAL only
// reads from /var/opt/azcmagent/tokens.
func TestManagedIdentityAzureArc(t *testing.T) {
	s, l := managedHost(t)
	const dir = "/var/opt/azcmagent/tokens"
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("MSAL reads Arc keys only from " + dir + ", which takes root on Linux")
	}
	mkdirs(t, dir)
	file := filepath.Join(dir, "grpccreds-test-"+strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")+".key")
	const key = "arc-key-marker-3d9a"
	if err := os.WriteFile(file, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	azuretest.SetArcKey(s, file, key)
	t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/metadata/identity/oauth2/token")
	t.Setenv("IMDS_ENDPOINT", azuretest.ManagedIdentityBase(s))
	if got, _ := oid(t, managed(t, ManagedIdentity{}, l)); got != "oid-system" {
		t.Fatalf("oid %q, want oid-system", got)
	}
	if n := azuretest.ManagedIdentityRequests(s); n != 2 {
		t.Fatalf("%d requests, want 2 (the challenge, then the token)", n)
	}
}

// mkdirs creates dir and whichever of its parents are missing, and removes
// just those when the test ends.
func mkdirs(t *testing.T, dir string) {
	t.Helper()
	var made []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range made { // deepest first
			os.Remove(d)
		}
	})
}

// MSAL's retries are off: a failing endpoint gets one request per engine
// attempt, and the engine's backoff spaces them.
func TestManagedIdentityRetriesAreTheEngines(t *testing.T) {
	s, l := managedHost(t)
	d, opts := enginetest.New(t)
	r := managed(t, ManagedIdentity{}, l, opts...)
	s.SetMode(grpccredstest.Fail500)
	_, e, err := d.Call(r)
	if status.Code(err) != codes.Unavailable || e.Kind != tokensource.RefreshFailed || azuretest.ManagedIdentityRequests(s) != 1 {
		t.Fatalf("first attempt: %v, %d requests; want Unavailable after 1 request", err, azuretest.ManagedIdentityRequests(s))
	}
	s.SetMode(grpccredstest.Healthy)
	d.Clock.Advance(e.NextRetry.Sub(d.Clock.Now()))
	if _, e, err := d.Call(r); err != nil || e.Kind != tokensource.RefreshSucceeded || azuretest.ManagedIdentityRequests(s) != 2 {
		t.Fatalf("after the backoff: %v, %d requests; want a token after 2", err, azuretest.ManagedIdentityRequests(s))
	}
}

// A fetch that replaces the engine's token reaches the endpoint instead of
// MSAL's cache.
func TestManagedIdentityInvalidateFetchesANewToken(t *testing.T) {
	s, l := managedHost(t)
	g, _ := engine.Of(managed(t, ManagedIdentity{}, l))
	first, gen, err := g.TokenGeneration(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	g.Invalidate(gen)
	next, _, err := g.TokenGeneration(context.Background(), gen)
	if err != nil || next.AccessToken == first.AccessToken || azuretest.ManagedIdentityRequests(s) != 2 {
		t.Fatalf("after Invalidate: %v, new token %v, %d requests; want a new token from a second request",
			err, next != nil && next.AccessToken != first.AccessToken, azuretest.ManagedIdentityRequests(s))
	}
}

// Off Azure nothing answers at 169.254.169.254. The first fetch must fail
// fast and say so, not hang until the engine's 30 s fetch timeout.
func TestManagedIdentityOffAzureFailsFast(t *testing.T) {
	managedHost(t)
	blackhole := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done() // a dropped SYN
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}
	r := refresher(t, ManagedIdentity{Scope: scope(t), HTTPClient: newManagedClient(blackhole)})
	began := time.Now()
	_, err := r.Token()
	took := time.Since(began)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "IMDS (169.254.169.254) did not answer") {
		t.Fatalf("off Azure: %v, want Unavailable naming IMDS", err)
	}
	if took > 10*imdsConnectTimeout {
		t.Fatalf("off Azure the first fetch took %v; the bound is %v", took, imdsConnectTimeout)
	}
}

func TestManagedIdentityErrors(t *testing.T) {
	s, l := managedHost(t)
	_, err := managed(t, ManagedIdentity{ClientID: "not-assigned"}, l).Token()
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("an identity the host lacks: %v, want Unauthenticated", err)
	}
	t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "wrong-"+azuretest.AppServiceHeader)
	_, err = managed(t, ManagedIdentity{Scope: resource("wrong-header") + "/.default"}, l).Token()
	if status.Code(err) != codes.Unauthenticated || strings.Contains(err.Error(), azuretest.AppServiceHeader) {
		t.Fatalf("a wrong App Service header: %v, want Unauthenticated without the header", err)
	}
	for _, m := range []ManagedIdentity{{Scope: "s", ClientID: "a", ObjectID: "b"}, {}} {
		if _, err := m.TokenSource(); err == nil {
			t.Errorf("%+v accepted", m)
		}
	}
}

// MSAL alone would send one request per cold caller; the engine shares one.
func TestManagedIdentityColdCrowdCausesOneRequest(t *testing.T) {
	s, l := managedHost(t)
	r := managed(t, ManagedIdentity{}, l)
	ok := enginetest.ColdCrowd(r, 1000)
	if ok != 1000 || azuretest.ManagedIdentityRequests(s) != 1 {
		t.Fatalf("%d callers served with %d requests, want 1000 with 1", ok, azuretest.ManagedIdentityRequests(s))
	}
}

// The requests carry the host's secrets, so a redirect is never followed,
// whether the client is the default one or the caller's.
func TestManagedIdentityClientFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	endpoint := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/steal", http.StatusTemporaryRedirect))
	defer endpoint.Close()
	for name, c := range map[string]*http.Client{
		"default":  newManagedClient((&net.Dialer{}).DialContext),
		"caller's": ManagedIdentity{HTTPClient: &http.Client{}}.client(),
	} {
		req, _ := http.NewRequest(http.MethodGet, endpoint.URL, nil)
		req.Header.Set("X-IDENTITY-HEADER", azuretest.AppServiceHeader)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect || reached.Load() != 0 {
			t.Fatalf("%s client: status %d, the other server reached %d times; want the redirect returned, not followed", name, resp.StatusCode, reached.Load())
		}
	}
}

// IMDS hands back its cached token until shortly before it expires, so the
// engine is told to ask it then (4 minutes before expiry), not earlier;
// App Service's endpoint gets the engine's usual schedule.
func TestManagedIdentityIMDSSaysWhenItRenews(t *testing.T) {
	s, l := managedHost(t)
	refreshAt := func(m ManagedIdentity) (time.Duration, time.Duration) {
		events := make(chan tokensource.Event, 16)
		r := managed(t, m, l, tokensource.WithObserver(func(e tokensource.Event) { events <- e }))
		if _, err := r.Token(); err != nil {
			t.Fatal(err)
		}
		for e := range events {
			if e.Kind == tokensource.RefreshSucceeded {
				exp := e.Expiry.Add(30 * time.Second) // the engine stops serving 30 s before expiry
				return exp.Sub(e.RefreshAt), time.Until(exp)
			}
		}
		return 0, 0
	}
	before, life := refreshAt(ManagedIdentity{Scope: resource("imds-renewal") + "/.default"})
	if (before - renewsBefore).Abs() > time.Second {
		t.Errorf("IMDS: refresh %v before expiry (token lives %v), want %v", before, life, renewsBefore)
	}
	t.Setenv("IDENTITY_ENDPOINT", azuretest.ManagedIdentityBase(s)+"/msi/token")
	t.Setenv("IDENTITY_HEADER", azuretest.AppServiceHeader)
	if before, life := refreshAt(ManagedIdentity{Scope: resource("appservice-renewal") + "/.default"}); before < life/5 {
		t.Errorf("App Service: refresh %v before expiry (token lives %v), want the engine's usual schedule", before, life)
	}
}

// MSAL's own refresh point (half the lifetime of a long managed-identity
// token), when it comes before the renewal margin, is when the engine asks.
func TestCachedTokenKeepsAnEarlierRefreshPoint(t *testing.T) {
	now := time.Now()
	for name, tc := range map[string]struct {
		refreshOn time.Time
		want      time.Time
	}{
		"24 h token, MSAL's half-life": {now.Add(12 * time.Hour), now.Add(12 * time.Hour)},
		"no refresh point":             {time.Time{}, now.Add(24*time.Hour - renewsBefore)},
		"a refresh point past margin":  {now.Add(24*time.Hour - time.Minute), now.Add(24*time.Hour - renewsBefore)},
	} {
		got := engine.RenewsAt(cachedToken(context.Background(), "t", now.Add(24*time.Hour), tc.refreshOn))
		if got.Sub(tc.want).Abs() > time.Second {
			t.Errorf("%s: renews at +%v, want +%v", name, got.Sub(now), tc.want.Sub(now))
		}
	}
}
