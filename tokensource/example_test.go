package tokensource_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Wrap an OAuth2 client-credentials config in the refresh engine: tokens are
// fetched once, refreshed in the background, and served without a lock.
func ExampleRefreshing() {
	cfg := &clientcredentials.Config{
		ClientID:     "my-app",
		ClientSecret: "from-a-secret-store",
		TokenURL:     "https://login.example.com/tenant/oauth2/v2.0/token",
		Scopes:       []string{"api://my-api/.default"},
	}
	ts, err := tokensource.Refreshing(tokensource.ClientCredentials(context.Background(), cfg),
		tokensource.WithRefreshBefore(5*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close()
	_ = ts // pass to creds.NewBearer; connection.WithTokenSource builds its own engine
}

// A function can be a token source too.
func ExampleFunc() {
	n := 0
	ts, err := tokensource.Refreshing(tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		n++
		return &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close()
	a, _ := ts.Token()
	b, _ := ts.Token()
	fmt.Println(a.AccessToken, b.AccessToken)
	// Output: token-1 token-1
}

// An application-supplied token is validated before it is swapped in; a bad
// one is refused and the previous token stays.
func ExampleExternal() {
	ext, err := tokensource.NewExternal("first-token")
	if err != nil {
		panic(err)
	}
	fmt.Println(ext.Update("second token"))
	tok, _ := ext.Token()
	fmt.Println(tok.AccessToken)
	// Output:
	// tokensource: invalid token: token contains a space at offset 6
	// first-token
}

// A source that keeps a cache of its own (here a stand-in for a client library
// that hands out a cached token until it nears expiry) must bypass that cache
// when the engine asks for a replacement, or the engine cannot refresh early.
func ExampleReplacing() {
	cached := &oauth2.Token{AccessToken: "cached", Expiry: time.Now().Add(time.Hour)}
	fresh := 0
	src := tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		if !tokensource.Replacing(ctx) {
			return cached, nil // the first fetch may use the cache
		}
		fresh++ // a replacement: ask the identity provider
		return &oauth2.Token{AccessToken: fmt.Sprintf("fresh-%d", fresh), Expiry: time.Now().Add(time.Hour)}, nil
	})
	ts, err := tokensource.Refreshing(src)
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close()
	tok, _ := ts.Token()
	fmt.Println(tok.AccessToken)
	// Output: cached
}
