package tokensource_test

import (
	"context"
	"fmt"
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
	ts := tokensource.Refreshing(tokensource.ClientCredentials(context.Background(), cfg),
		tokensource.WithRefreshBefore(5*time.Minute))
	defer ts.Close()
	_ = ts // pass to creds.NewBearer or connection.WithTokenSource
}

// A function can be a token source too.
func ExampleFunc() {
	n := 0
	ts := tokensource.Refreshing(tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		n++
		return &oauth2.Token{AccessToken: fmt.Sprintf("token-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}))
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
	// grpccreds: invalid token: token contains a space at offset 6
	// first-token
}
