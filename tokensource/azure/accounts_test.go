package azure_test

import (
	"context"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"github.com/grpccreds/grpccreds/tokensource/azure/msalcache"
	"golang.org/x/oauth2"
)

// seed signs id in on client in the browser, as an earlier sign-in or
// another tool sharing the cache would, so that client's cache holds id's
// account.
func seed(t *testing.T, s *grpccredstest.IdentityProvider, client public.Client, id grpccredstest.Identity) {
	t.Helper()
	azuretest.SignInAs(s, id)
	if _, err := client.AcquireTokenInteractive(context.Background(), userScopes, newBrowser(t, s).login()...); err != nil {
		t.Fatal(err)
	}
}

// holder is the name a token is issued to.
func holder(tok *oauth2.Token) any {
	claims, _ := jwtpeek.Claims(tok.AccessToken)
	return claims["name"]
}

// refreshes replaces r's token n times (after Invalidate, 2 minutes apart
// on the engine's clock, which its rate limit on invalidations allows) and
// fails the test unless every new token is for want.
func refreshes(t *testing.T, f *enginetest.Driver, r *tokensource.Refresher, n int, want string) {
	t.Helper()
	for i := range n {
		f.Clock.Advance(2 * time.Minute)
		if !invalidate(t, r) {
			t.Fatalf("refresh %d: Invalidate refused", i)
		}
		r.Token()
		if e := f.Outcome(); e.Kind != tokensource.RefreshSucceeded {
			t.Fatalf("refresh %d: %v", i, e.Err)
		}
		tok, err := r.Token()
		if err != nil || holder(tok) != want {
			t.Fatalf("refresh %d: token for %v (%v), want %s", i, holder(tok), err, want)
		}
	}
}

// With two accounts cached and nothing to choose between them, DeviceCode
// does not guess: it asks for a device code, and its refreshes keep to the
// account that signed in.
func TestDeviceCodeTwoCachedAccounts(t *testing.T) {
	s := enginetest.Authority(t)
	client := publicClient(t, s)
	seed(t, s, client, azuretest.User())
	seed(t, s, client, azuretest.SecondUser())
	azuretest.SignInAs(s, azuretest.User()) // who enters the code
	var prompts counter
	f, opts := enginetest.New(t)
	r := refresher(t, azure.DeviceCode{Client: client, Scopes: userScopes, Prompt: prompts.prompt}, opts...)
	tok, _, err := f.Call(r)
	if err != nil || prompts.n.Load() != 1 || holder(tok) != azuretest.User().Name {
		t.Fatalf("first fetch: token for %v (%v) after %d prompts; want %s after 1", holder(tok), err, prompts.n.Load(), azuretest.User().Name)
	}
	refreshes(t, f, r, 6, azuretest.User().Name)
	if prompts.n.Load() != 1 {
		t.Fatalf("%d prompts, want 1", prompts.n.Load())
	}
}

// Before the engine has signed anyone in, InteractiveBrowser's login hint
// chooses the cached account: a hint that names no cached account signs in
// in the browser, one that names a cached account refreshes it silently,
// and without a hint two cached accounts mean the browser, not a guess.
func TestInteractiveBrowserLoginHintChoosesTheAccount(t *testing.T) {
	s := enginetest.Authority(t)
	client := publicClient(t, s)
	seed(t, s, client, azuretest.User())
	azuretest.SignInAs(s, azuretest.SecondUser())
	run := func(login ...public.AcquireInteractiveOption) (*enginetest.Driver, *tokensource.Refresher, *browser) {
		t.Helper()
		b := newBrowser(t, s)
		f, opts := enginetest.New(t)
		r := refresher(t, azure.InteractiveBrowser{Client: client, Scopes: userScopes, Options: b.login(login...)}, opts...)
		if _, _, err := f.Call(r); err != nil {
			t.Fatal(err)
		}
		return f, r, b
	}

	_, r, b := run(public.WithLoginHint(azuretest.Username(azuretest.SecondUser())))
	if tok, _ := r.Token(); len(b.Opened()) != 1 || holder(tok) != azuretest.SecondUser().Name {
		t.Fatalf("hint for an account not cached: token for %v after %d browser openings; want %s after 1",
			holder(tok), len(b.Opened()), azuretest.SecondUser().Name)
	}

	// The cache now holds both; the hint (of any case) picks one.
	f, r, b := run(public.WithLoginHint("ADA@example.test"))
	if tok, _ := r.Token(); len(b.Opened()) != 0 || holder(tok) != azuretest.User().Name {
		t.Fatalf("hint for a cached account: token for %v after %d browser openings; want %s after 0",
			holder(tok), len(b.Opened()), azuretest.User().Name)
	}
	refreshes(t, f, r, 6, azuretest.User().Name)

	azuretest.SignInAs(s, azuretest.User())
	if _, _, b := run(); len(b.Opened()) != 1 {
		t.Fatalf("two cached accounts and no hint: %d browser openings, want 1", len(b.Opened()))
	}
}

// Tools that share a persistent cache each keep to their own user: the
// file holds both accounts, and a login hint picks one in a later run
// without the browser.
func TestPersistentCacheTwoUsers(t *testing.T) {
	s := enginetest.Authority(t)
	path := cacheFile(t)
	run := func(id grpccredstest.Identity) (opened int) {
		t.Helper()
		b := newBrowser(t, s)
		client := publicClient(t, s, public.WithCache(msalcache.Persistent(msalcache.FileStore(path), nil)))
		r := refresher(t, azure.InteractiveBrowser{Client: client, Scopes: userScopes,
			Options: b.login(public.WithLoginHint(azuretest.Username(id)))})
		defer r.Close() // one run of a tool: it exits after its token
		tok, err := r.Token()
		if err != nil || holder(tok) != id.Name {
			t.Fatalf("token for %v (%v), want %s", holder(tok), err, id.Name)
		}
		return len(b.Opened())
	}
	azuretest.SignInAs(s, azuretest.User())
	if n := run(azuretest.User()); n != 1 {
		t.Fatalf("first sign-in of %s: %d browser openings, want 1", azuretest.User().Name, n)
	}
	azuretest.SignInAs(s, azuretest.SecondUser())
	if n := run(azuretest.SecondUser()); n != 1 {
		t.Fatalf("first sign-in of %s: %d browser openings, want 1", azuretest.SecondUser().Name, n)
	}
	for range 4 {
		for _, id := range []grpccredstest.Identity{azuretest.User(), azuretest.SecondUser()} {
			if n := run(id); n != 0 {
				t.Fatalf("later run for %s: %d browser openings, want 0", id.Name, n)
			}
		}
	}
}
