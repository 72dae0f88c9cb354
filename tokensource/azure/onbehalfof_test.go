package azure_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/grpccredstest/azuretest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/internal/jwtpeek"
	"github.com/grpccreds/grpccreds/tokensource"
	"github.com/grpccreds/grpccreds/tokensource/azure"
	"github.com/grpccreds/grpccreds/tokensource/azure/msalcache"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The middle tier: the app whose callers' tokens are for it, and that calls
// the downstream API on their behalf.
const (
	middleTier       = "middle-tier-app"
	middleTierSecret = "m1ddle-T13r~secret.for-tests"
	downstream       = "api://downstream"
)

// obo is the middle tier's on-behalf-of set-up against the test authority.
type obo struct {
	s    *grpccredstest.IdentityProvider
	user tokensource.UserFunc
}

func newOBO(t testing.TB, opts ...confidential.Option) obo {
	t.Helper()
	s := enginetest.Authority(t)
	s.Register(middleTier, grpccredstest.Client{Secret: middleTierSecret})
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	cred, err := confidential.NewCredFromSecret(middleTierSecret)
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New(s.AuthorityURL, middleTier, cred,
		append([]confidential.Option{confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(false)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	user, err := azure.OnBehalfOf{Client: client, Scopes: []string{downstream + "/.default"}}.UserFunc()
	if err != nil {
		t.Fatal(err)
	}
	return obo{s: s, user: user}
}

// incoming is a token a caller of the middle tier presents: id's, for the
// middle tier, from the authority, unless c says otherwise.
func (o obo) incoming(t testing.TB, id grpccredstest.Identity, c grpccredstest.Claims) string {
	t.Helper()
	c.Identity = id
	if c.Audience == "" {
		c.Audience = middleTier
	}
	tok, err := o.s.Signer.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (o obo) perUser(t *testing.T) *tokensource.PerUser {
	t.Helper()
	p, err := tokensource.NewPerUser(o.user, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestOnBehalfOfGetsATokenForTheDownstreamAPI(t *testing.T) {
	o := newOBO(t)
	ada := azuretest.User()
	in := o.incoming(t, ada, grpccredstest.Claims{})
	tok, err := o.user(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := jwtpeek.Claims(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims["aud"] != downstream || claims["oid"] != ada.OID || claims["name"] != ada.Name || tok.TokenType != "Bearer" {
		t.Fatalf("token for aud %v, oid %v, name %v, type %q; want %s, %s, %s, Bearer", claims["aud"], claims["oid"], claims["name"], tok.TokenType, downstream, ada.OID, ada.Name)
	}
	if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expiry in %v, want the hour the authority gave", d)
	}

	// An incoming token for "api://" and the client ID will do too.
	if _, err := o.user(context.Background(), o.incoming(t, ada, grpccredstest.Claims{Audience: "api://" + middleTier})); err != nil {
		t.Fatalf("incoming token for api://%s: %v", middleTier, err)
	}

	// A fetch that does not replace a token takes MSAL's cached one; one that
	// does goes to the authority, with claims, and brings a newer token.
	again, err := o.user(context.Background(), in)
	if err != nil || again.AccessToken != tok.AccessToken || o.s.OnBehalfOfRequests() != 2 {
		t.Fatalf("second fetch: %v, same token %v, %d on-behalf-of requests; want MSAL's cached token and 2",
			err, again != nil && again.AccessToken == tok.AccessToken, o.s.OnBehalfOfRequests())
	}
	asked := time.Now().Unix()
	fresh, err := o.user(engine.WithReplacing(context.Background()), in)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || o.s.OnBehalfOfRequests() != 3 || azuretest.ClaimsRequests(o.s) != 1 {
		t.Fatalf("replacing fetch: new token %v, %d on-behalf-of requests, %d with claims; want a new token, 3 and 1",
			fresh.AccessToken != tok.AccessToken, o.s.OnBehalfOfRequests(), azuretest.ClaimsRequests(o.s))
	}
	if nbf := notBefore(t, fresh.AccessToken); nbf < asked {
		t.Fatalf("the new token's nbf is %d s before the fetch; the claims did not reach the authority", asked-nbf)
	}
}

func TestOnBehalfOfPerUserSharesFetches(t *testing.T) {
	o := newOBO(t)
	p := o.perUser(t)
	users := []grpccredstest.Identity{azuretest.User(), azuretest.SecondUser(), {Name: "Cy Auditor", OID: "c7a11e00-0000-4000-8000-0000000000c7"}}
	incoming := make([]string, len(users))
	for i, u := range users {
		incoming[i] = o.incoming(t, u, grpccredstest.Claims{})
	}
	crowd := func(which ...int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 50*len(which))
		for _, i := range which {
			for range 50 {
				wg.Go(func() {
					tok, err := p.Token(context.Background(), incoming[i])
					if err == nil {
						var claims map[string]any
						if claims, err = jwtpeek.Claims(tok.AccessToken); err == nil && claims["oid"] != users[i].OID {
							err = status.Errorf(codes.Internal, "user %d got a token for %v", i, claims["oid"])
						}
					}
					if err != nil {
						errs <- err
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	crowd(0)
	if n := o.s.OnBehalfOfRequests(); n != 1 {
		t.Fatalf("50 concurrent cold calls for one user made %d on-behalf-of requests, want 1", n)
	}
	crowd(0, 1, 2)
	if n := o.s.OnBehalfOfRequests(); n != 3 || p.Len() != 3 {
		t.Fatalf("3 users made %d on-behalf-of requests, %d users kept; want 3 and 3", n, p.Len())
	}
}

func TestOnBehalfOfRefusesBadIncomingTokens(t *testing.T) {
	o := newOBO(t)
	ada := azuretest.User()
	foreign, err := grpccredstest.NewSigner(t, o.s.Issuer, middleTier).Mint(grpccredstest.Claims{Identity: ada})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"for another app": o.incoming(t, ada, grpccredstest.Claims{Audience: "api://another-app"}),
		"forged":          foreign,
		"expired":         o.incoming(t, ada, grpccredstest.Claims{Expiry: time.Now().Add(-time.Minute)}),
		"empty":           "",
	} {
		_, err := o.user(context.Background(), in)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
			continue
		}
		if msg := err.Error(); (in != "" && strings.Contains(msg, in)) || strings.Contains(msg, "AADSTS") || strings.Contains(msg, middleTierSecret) {
			t.Errorf("%s: the error quotes a token, a secret or a response body: %s", name, msg)
		}
	}
	requests := o.s.OnBehalfOfRequests()
	if requests != 3 {
		t.Errorf("%d on-behalf-of requests, want 3 (none for the empty token)", requests)
	}
	// NewPerUser refuses an expired incoming token before any request.
	_, err = o.perUser(t).Token(context.Background(), o.incoming(t, ada, grpccredstest.Claims{Expiry: time.Now().Add(-time.Minute)}))
	if status.Code(err) != codes.Unauthenticated || o.s.OnBehalfOfRequests() != requests {
		t.Errorf("expired, through PerUser: %v after %d more requests; want Unauthenticated and none", err, o.s.OnBehalfOfRequests()-requests)
	}
}

func TestOnBehalfOfAuthorityFailures(t *testing.T) {
	o := newOBO(t)
	in := o.incoming(t, azuretest.User(), grpccredstest.Claims{})
	for mode, want := range map[grpccredstest.Mode]codes.Code{
		grpccredstest.Fail500:       codes.Unavailable,
		grpccredstest.Fail429:       codes.Unavailable,
		grpccredstest.InvalidClient: codes.Unauthenticated,
	} {
		o.s.SetMode(mode)
		if _, err := o.user(context.Background(), in); status.Code(err) != want {
			t.Errorf("mode %d: %v, want %v", mode, err, want)
		}
	}
	o.s.SetMode(grpccredstest.Healthy)
	if _, err := o.user(context.Background(), in); err != nil {
		t.Fatalf("healthy again: %v", err)
	}
}

func TestOnBehalfOfRefusesIncompleteConfigurations(t *testing.T) {
	cred, err := confidential.NewCredFromSecret("x")
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New("https://login.microsoftonline.com/t", "c", cred)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]azure.OnBehalfOf{
		"no scopes": {Client: client},
		"no client": {Scopes: []string{downstream + "/.default"}},
	} {
		if f, err := c.UserFunc(); err == nil || f != nil || !strings.HasPrefix(err.Error(), "azure: ") {
			t.Errorf("%s: %v, want an error starting azure:", name, err)
		}
	}
}

// A user's token the downstream API rejected is replaced through MSAL's
// on-behalf-of flow past MSAL's cache (which would hand the same token
// back), for that user alone: the path a connection's resend takes.
func TestOnBehalfOfReplacesARejectedToken(t *testing.T) {
	o := newOBO(t)
	p := o.perUser(t)
	ctx := context.Background()
	ada, bob := o.incoming(t, azuretest.User(), grpccredstest.Claims{}), o.incoming(t, azuretest.SecondUser(), grpccredstest.Claims{})
	first, eng, gen, err := engine.UserToken(ctx, p, ada, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, _, err := engine.UserToken(ctx, p, bob, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !eng.Invalidate(gen) {
		t.Fatal("the invalidation of ada's token was refused")
	}
	second, _, gen2, err := engine.UserToken(ctx, p, ada, eng, gen)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || gen2 <= gen || o.s.OnBehalfOfRequests() != 3 || azuretest.ClaimsRequests(o.s) != 1 {
		t.Fatalf("after the rejection: new token %v, generation %d after %d, %d on-behalf-of requests, %d with claims; want a new token, 3 and 1",
			second.AccessToken != first.AccessToken, gen2, gen, o.s.OnBehalfOfRequests(), azuretest.ClaimsRequests(o.s))
	}
	if again, err := p.Token(ctx, bob); err != nil || again != bobs {
		t.Fatalf("bob after ada's token was replaced: %v, same token %v; want his own, untouched", err, again == bobs)
	}
}

// MSAL (v1.10) cannot load its on-behalf-of cache through a cache accessor
// (its partitioned store refuses to be unmarshalled), so a client given one
// fails every on-behalf-of request, as azure.OnBehalfOf's documentation
// warns. If this test fails, MSAL has fixed it: update that documentation.
func TestOnBehalfOfWithACacheAccessorFails(t *testing.T) {
	o := newOBO(t, confidential.WithCache(msalcache.Persistent(memStore{}, slog.New(slog.DiscardHandler))))
	in := o.incoming(t, azuretest.User(), grpccredstest.Claims{})
	_, err := o.user(context.Background(), in)
	// MSAL asks the authority, then fails to store the answer.
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "MSAL could not get a token") || o.s.OnBehalfOfRequests() != 1 {
		t.Fatalf("%v after %d requests, want Unavailable from MSAL after 1", err, o.s.OnBehalfOfRequests())
	}
	plain := newOBO(t)
	if _, err := plain.user(context.Background(), plain.incoming(t, azuretest.User(), grpccredstest.Claims{})); err != nil {
		t.Fatalf("the same request without the cache accessor: %v", err)
	}
}

// memStore stores nothing: every load finds an empty cache.
type memStore struct{}

func (memStore) Load(context.Context) ([]byte, error) { return nil, nil }
func (memStore) Save(context.Context, []byte) error   { return nil }

// With NewClient, the client (and MSAL's cache, which never forgets a user)
// is replaced every renewEvery requests (3 here); a failed build keeps the
// current client.
func TestOnBehalfOfNewClientIsReplaced(t *testing.T) {
	defer azure.SetRenewEvery(3)()
	o := newOBO(t)
	hc := o.s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	var builds, failFrom int
	newClient := func() (confidential.Client, error) {
		builds++
		if failFrom > 0 && builds >= failFrom {
			return confidential.Client{}, errors.New("no client today")
		}
		cred, err := confidential.NewCredFromSecret(middleTierSecret)
		if err != nil {
			return confidential.Client{}, err
		}
		return confidential.New(o.s.AuthorityURL, middleTier, cred, confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(false))
	}
	user, err := azure.OnBehalfOf{NewClient: newClient, Scopes: []string{downstream + "/.default"}}.UserFunc()
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(in string) {
		t.Helper()
		tok, err := user(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := jwtpeek.Claims(tok.AccessToken); err != nil || c["aud"] != downstream {
			t.Fatalf("token for %v (%v), want %s", c["aud"], err, downstream)
		}
	}
	var users []string
	for i := range 7 {
		users = append(users, o.incoming(t, grpccredstest.Identity{Name: "u", OID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)}, grpccredstest.Claims{}))
		fetch(users[i])
	}
	if builds != 3 {
		t.Fatalf("7 requests built %d clients, want 3 (at the start, after 3, after 6)", builds)
	}
	// The current client's cache knows user 6, not user 0, whose partition
	// went with the first client.
	before := o.s.OnBehalfOfRequests()
	fetch(users[6])
	fetch(users[0])
	if n := o.s.OnBehalfOfRequests() - before; n != 1 {
		t.Fatalf("users 6 and 0 again made %d on-behalf-of requests, want 1 (user 0's)", n)
	}
	// This client has served 3 requests: the next builds its successor,
	// which fails; the client goes on, and the next attempt comes 3
	// requests later.
	failFrom = builds + 1
	for i := range 4 {
		fetch(users[i])
	}
	if builds != failFrom+1 {
		t.Fatalf("%d builds, want %d (two failed attempts, 3 requests apart)", builds, failFrom+1)
	}
	failFrom = 0
	panics := true
	user, err = azure.OnBehalfOf{NewClient: func() (confidential.Client, error) {
		if panics = !panics; panics {
			panic("no client today")
		}
		return newClient()
	}, Scopes: []string{downstream + "/.default"}}.UserFunc()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 { // the 4th request's build panics
		fetch(users[i])
	}
	if !panics {
		t.Fatal("NewClient was not called again")
	}
}

// Concurrent requests: the one that finds a new client due builds it,
// while the others go on with the current one and build none of their own.
func TestOnBehalfOfNewClientConcurrently(t *testing.T) {
	defer azure.SetRenewEvery(3)()
	o := newOBO(t)
	hc := o.s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	var builds atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	user, err := azure.OnBehalfOf{NewClient: func() (confidential.Client, error) {
		if builds.Add(1) == 2 { // the first renewal waits until released
			close(started)
			<-release
		}
		return confidential.New(o.s.AuthorityURL, middleTier, mustSecret(t), confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(false))
	}, Scopes: []string{downstream + "/.default"}}.UserFunc()
	if err != nil {
		t.Fatal(err)
	}
	in := o.incoming(t, azuretest.User(), grpccredstest.Claims{})
	for range 3 {
		if _, err := user(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	builder := make(chan error, 1)
	go func() { _, err := user(context.Background(), in); builder <- err }() // the 4th request: a new client is due
	<-started
	for i := range 10 { // with the first client, while the build waits
		if _, err := user(context.Background(), in); err != nil {
			t.Fatalf("request %d during the build: %v", i, err)
		}
	}
	if n := builds.Load(); n != 2 {
		t.Fatalf("%d builds while one was in progress, want 2 (the first and the one in progress)", n)
	}
	close(release)
	if err := <-builder; err != nil {
		t.Fatal(err)
	}
}

func TestOnBehalfOfClientChoice(t *testing.T) {
	o := newOBO(t)
	scopes := []string{downstream + "/.default"}
	client, err := confidential.New(o.s.AuthorityURL, middleTier, mustSecret(t), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	good := func() (confidential.Client, error) { return client, nil }
	for name, c := range map[string]azure.OnBehalfOf{
		"not both":                 {Client: client, NewClient: good, Scopes: scopes},
		"needs a Client":           {Scopes: scopes},
		"NewClient: no client yet": {NewClient: func() (confidential.Client, error) { return confidential.Client{}, errors.New("no client yet") }, Scopes: scopes},
		"returned no client":       {NewClient: func() (confidential.Client, error) { return confidential.Client{}, nil }, Scopes: scopes},
	} {
		if _, err := c.UserFunc(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error saying so", name, err)
		}
	}
}

func mustSecret(t *testing.T) confidential.Credential {
	t.Helper()
	cred, err := confidential.NewCredFromSecret(middleTierSecret)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// BenchmarkOnBehalfOfMemory reports what each new user leaves in memory
// after its on-behalf-of request (B/user): MSAL's cache keeps it with a
// Client, and lets it go with each client NewClient replaces. Run it with
// -benchtime 3000x or more: below renewEvery (1000) requests, the two agree.
func BenchmarkOnBehalfOfMemory(b *testing.B) {
	scopes := []string{downstream + "/.default"}
	for _, name := range []string{"Client", "NewClient"} {
		b.Run(name, func(b *testing.B) {
			o := newOBO(b)
			hc := o.s.HTTPClient()
			b.Cleanup(hc.CloseIdleConnections)
			newClient := func() (confidential.Client, error) {
				cred, err := confidential.NewCredFromSecret(middleTierSecret)
				if err != nil {
					return confidential.Client{}, err
				}
				return confidential.New(o.s.AuthorityURL, middleTier, cred, confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(false))
			}
			cfg := azure.OnBehalfOf{Scopes: scopes, NewClient: newClient}
			if name == "Client" {
				client, err := newClient()
				if err != nil {
					b.Fatal(err)
				}
				cfg = azure.OnBehalfOf{Scopes: scopes, Client: client}
			}
			user, err := cfg.UserFunc()
			if err != nil {
				b.Fatal(err)
			}
			in := make([]string, b.N)
			for i := range in {
				in[i] = o.incoming(b, grpccredstest.Identity{Name: "u", OID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)}, grpccredstest.Claims{})
			}
			before := liveHeap()
			b.ResetTimer()
			for i := range b.N {
				if _, err := user(context.Background(), in[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(liveHeap()-before)/float64(b.N), "B/user")
			runtime.KeepAlive(in)
			runtime.KeepAlive(user) // and the client, with MSAL's cache
		})
	}
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
