package tokensource_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/authority"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// x/oauth2's client-credentials grant (the real library) behind the engine,
// against the HTTPS test authority. x/oauth2 stamps Expiry from the real
// clock; the test moves it onto the fake one.
func clientCredentials(s *authority.Server, hc *http.Client, clk *clocktest.Clock) tokensource.Func {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: s.TokenURL(),
		Scopes: []string{"api://grpccreds/.default"}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	cc := tokensource.ClientCredentials(ctx, cfg)
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := cc(ctx)
		if err == nil {
			tok.Expiry = clk.Now().Add(time.Until(tok.Expiry))
		}
		return tok, err
	}
}

// The authority is down from 50 % to 95 % of a 1 h token's lifetime, with a
// call every minute: tokensource.ClientCredentials behind the engine serves
// every call, and one token request per lifetime is made while healthy.
func TestClientCredentialsOutageMidLifetime(t *testing.T) {
	s := idp(t)
	s.SetLifetime(time.Hour, 0)
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	f, opts := newFakeTime(t)
	opts = append(opts, tokensource.WithBackoff(time.Second, time.Minute))
	r := tokensource.Refreshing(clientCredentials(s, hc, f.clk), opts...)
	defer r.Close()
	failed, tokens := 0, map[string]bool{}
	for m := range 75 {
		outage(t, s, m)
		tok, _, err := f.call(r)
		f.clk.Advance(time.Minute)
		if err != nil {
			failed++
			continue
		}
		tokens[tok.AccessToken] = true
	}
	if failed != 0 || len(tokens) != 2 || s.TokenRequests() != 2 {
		t.Fatalf("%d failed calls, %d tokens, %d token requests; want 0, 2 and 2", failed, len(tokens), s.TokenRequests())
	}
}

// outage takes the authority down at minute 30 and brings it back on the same
// port at minute 57: 50 % to 95 % of a 1 h token's lifetime.
func outage(t *testing.T, s *authority.Server, minute int) {
	t.Helper()
	switch minute {
	case 30:
		s.Stop()
	case 57:
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
}
