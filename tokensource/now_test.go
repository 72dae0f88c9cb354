package tokensource

import (
	"context"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

// A source sees the engine's clock through engine.Now, and the real one elsewhere.
func TestNowIsTheFetchingEnginesClock(t *testing.T) {
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	var seen time.Time
	r := refreshing(t, Func(func(ctx context.Context) (*oauth2.Token, error) {
		seen = engine.Now(ctx)
		return &oauth2.Token{AccessToken: "t", Expiry: seen.Add(time.Hour)}, nil
	}), WithClock(clk.Now))
	defer r.Close()
	if _, err := r.Token(); err != nil {
		t.Fatal(err)
	}
	if !seen.Equal(clk.Now()) {
		t.Fatalf("Now in a fetch = %v, want the engine's %v", seen, clk.Now())
	}
	if d := time.Since(engine.Now(context.Background())); d < 0 || d > time.Minute {
		t.Fatalf("Now outside a fetch is %v from the real clock", d)
	}
}
