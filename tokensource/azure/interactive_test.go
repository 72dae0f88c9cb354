package azure_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var userScopes = []string{"api://grpccreds/.default"}

// publicClient is an MSAL public client of the test authority.
func publicClient(t *testing.T, s *grpccredstest.IdentityProvider, opts ...public.Option) public.Client {
	t.Helper()
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	client, err := public.New("cli-app", append([]public.Option{public.WithAuthority(s.AuthorityURL),
		public.WithInstanceDiscovery(false), public.WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// browser plays the user's browser for public.WithOpenURL: it opens the
// authorization URL at the test authority, where the user is signed in at
// once, and posts the form the authority answers with to MSAL's redirect
// server on localhost, as a browser runs that page's script.
type browser struct {
	hc     *http.Client // trusts the authority, follows no redirect
	mu     sync.Mutex
	opened []string // the URLs opened
}

func newBrowser(t *testing.T, s *grpccredstest.IdentityProvider) *browser {
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(hc.CloseIdleConnections)
	return &browser{hc: hc}
}

// login is the interactive options that make MSAL open b, and more.
func (b *browser) login(more ...public.AcquireInteractiveOption) []public.AcquireInteractiveOption {
	return append([]public.AcquireInteractiveOption{public.WithOpenURL(b.open)}, more...)
}

// Opened returns the URLs opened so far.
func (b *browser) Opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.opened...)
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	formField  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

func (b *browser) open(authURL string) error {
	b.mu.Lock()
	b.opened = append(b.opened, authURL)
	b.mu.Unlock()
	resp, err := b.hc.Get(authURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action := formAction.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || action == nil {
		return fmt.Errorf("the authorization endpoint answered %d without a form", resp.StatusCode)
	}
	fields := url.Values{}
	for _, f := range formField.FindAllSubmatch(page, -1) {
		fields.Add(html.UnescapeString(string(f[1])), html.UnescapeString(string(f[2])))
	}
	resp, err = b.hc.PostForm(html.UnescapeString(string(action[1])), fields)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// The first fetch opens the browser once, and the code it brings back is
// redeemed with PKCE; a fetch that replaces the token (here after
// Invalidate) is silent and brings a new token from the refresh token.
func TestInteractiveBrowserSignsInOnceThenRefreshesSilently(t *testing.T) {
	s := enginetest.Authority(t)
	b := newBrowser(t, s)
	f, opts := enginetest.New(t)
	r := refresher(t, azure.InteractiveBrowser{Client: publicClient(t, s), Scopes: userScopes,
		Options: b.login(public.WithLoginHint("ada@example.test"))}, opts...)
	first, _, err := f.Call(r)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := jwtpeek.Claims(first.AccessToken)
	opened := b.Opened()
	if claims["name"] != azuretest.User().Name || len(opened) != 1 || azuretest.AuthorizeRequests(s) != 1 || s.TokenRequests() != 1 {
		t.Fatalf("token for %v after %d browser openings, %d authorize and %d token requests; want %s, 1, 1 and 1",
			claims["name"], len(opened), azuretest.AuthorizeRequests(s), s.TokenRequests(), azuretest.User().Name)
	}
	q, _ := url.Parse(opened[0])
	if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("login_hint") != "ada@example.test" {
		t.Fatalf("authorization request without PKCE or the caller's login hint: %v", q.Query())
	}

	invalidate(t, r)
	r.Token()
	if e := f.Outcome(); e.Kind != tokensource.RefreshSucceeded {
		t.Fatalf("refresh after Invalidate: %v", e.Err)
	}
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Opened()) != 1 || azuretest.AuthorizeRequests(s) != 1 {
		t.Fatalf("%d browser openings, %d authorize requests; want 1 and 1 (the replacing fetch is silent)", len(b.Opened()), azuretest.AuthorizeRequests(s))
	}
	if tok.AccessToken == first.AccessToken || s.TokenRequests() != 2 || azuretest.ClaimsRequests(s) != 1 {
		t.Fatalf("new token: %v, token requests %d, with claims %d; want a new token, 2 and 1",
			tok.AccessToken != first.AccessToken, s.TokenRequests(), azuretest.ClaimsRequests(s))
	}
}

// A refresh that fails for a passing reason opens no browser: the fetch is
// Unavailable and the engine retries it.
func TestInteractiveBrowserOutageOpensNoBrowser(t *testing.T) {
	s := enginetest.Authority(t)
	b := newBrowser(t, s)
	f, opts := enginetest.New(t)
	r := refresher(t, azure.InteractiveBrowser{Client: publicClient(t, s), Scopes: userScopes, Options: b.login()}, opts...)
	signInThenOutage(t, s, f, r)
	if len(b.Opened()) != 1 || azuretest.AuthorizeRequests(s) != 1 {
		t.Fatalf("%d browser openings, %d authorize requests; want 1 and 1 (none during the outage)", len(b.Opened()), azuretest.AuthorizeRequests(s))
	}
}

// A user who never signs in does not hold the fetch beyond its timeout, and
// MSAL's redirect server is shut down (goleak checks).
func TestInteractiveBrowserNobodySignsIn(t *testing.T) {
	s := enginetest.Authority(t)
	var opened atomic.Int64 // written on the fetch's goroutine, which the timeout leaves behind
	ignore := public.WithOpenURL(func(string) error { opened.Add(1); return nil })
	r := refresher(t, azure.InteractiveBrowser{Client: publicClient(t, s), Scopes: userScopes,
		Options: []public.AcquireInteractiveOption{ignore}}, tokensource.WithFetchTimeout(200*time.Millisecond))
	if _, err := r.Token(); status.Code(err) != codes.Unavailable || opened.Load() != 1 {
		t.Fatalf("%v after %d browser openings; want Unavailable (timed out) after 1", err, opened.Load())
	}
}

// signInThenOutage signs in through r, then has the authority answer 500 to
// a refresh and 429 to its retry: both must fail Unavailable.
func signInThenOutage(t *testing.T, s *grpccredstest.IdentityProvider, f *enginetest.Driver, r *tokensource.Refresher) {
	t.Helper()
	if _, _, err := f.Call(r); err != nil {
		t.Fatal(err)
	}
	s.SetMode(grpccredstest.Fail500)
	invalidate(t, r)
	r.Token()
	e := f.Outcome()
	if e.Kind != tokensource.RefreshFailed || status.Code(e.Err) != codes.Unavailable {
		t.Fatalf("refresh during a 500 outage: %v with %v, want it failed Unavailable", e.Kind, e.Err)
	}
	s.SetMode(grpccredstest.Fail429)
	f.Clock.Advance(e.NextRetry.Sub(f.Clock.Now()))
	if _, e, _ := f.Call(r); e == nil || e.Kind != tokensource.RefreshFailed || status.Code(e.Err) != codes.Unavailable {
		t.Fatalf("retry while throttled: %+v, want it failed Unavailable", e)
	}
}
