package tokensource

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"golang.org/x/oauth2"
)

// cachingTool is a source like az: it hands back its cached token until 5
// minutes before it expires, and says so (engine.RenewsAtKey, 4 minutes
// before expiry, inside its renewal window).
func cachingTool(clk *clocktest.Clock) *source {
	var cached *oauth2.Token
	return &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		if cached == nil || clk.Now().After(cached.Expiry.Add(-5*time.Minute)) {
			exp := clk.Now().Add(time.Hour)
			cached = (&oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: exp}).
				WithExtra(map[string]any{engine.RenewsAtKey: exp.Add(-4 * time.Minute)})
		}
		return cached, nil
	}}
}

// A source that says when it will renew is asked then, not before: a 1 h
// token costs one fetch per lifetime, no unchanged fetch and no warning,
// and the new token arrives before the old one stops being served.
func TestSourceThatSaysWhenItRenews(t *testing.T) {
	clk := clocktest.New(t0)
	tool := cachingTool(clk)
	ch, obs := events()
	r := refreshing(t, tool, WithClock(clk.Now), obs)
	defer r.Close()
	if got := mustToken(t, r); got != "tok-1" {
		t.Fatalf("first token %q", got)
	}
	e := next(t, ch, RefreshSucceeded)
	if want := t0.Add(56 * time.Minute); !e.RefreshAt.Equal(want) {
		t.Fatalf("refresh at %v, want %v (when the source renews)", e.RefreshAt.Sub(t0), want.Sub(t0))
	}
	for life := range 3 {
		clk.Advance(e.RefreshAt.Sub(clk.Now()))
		r.Token() // a caller notices the token is due; the refresh runs in the background
		e = next(t, ch, RefreshSucceeded)
		if want := fmt.Sprintf("tok-%d", life+2); mustToken(t, r) != want {
			t.Fatalf("lifetime %d: token %q, want %s", life+2, mustToken(t, r), want)
		}
	}
	if n := tool.calls.Load(); n != 4 {
		t.Errorf("source asked %d times for 4 lifetimes, want 4", n)
	}
	r.Close()
	close(ch)
	for e := range ch {
		if e.Kind == RefreshUnchanged || e.Kind == SourceCachesTokens {
			t.Errorf("event %v: the source was asked before it renews", e.Kind)
		}
	}
}

// A fetch before the source renews (here after Invalidate) that brings the
// same token back is what the source said would happen: no warning, and
// the next attempt waits for the renewal instant.
func TestEarlyFetchOfARenewingSourceIsNotAWarning(t *testing.T) {
	clk := clocktest.New(t0)
	tool := cachingTool(clk)
	ch, obs := events()
	r := refreshing(t, tool, WithClock(clk.Now), obs)
	defer r.Close()
	mustToken(t, r)
	next(t, ch, RefreshSucceeded)
	clk.Advance(10 * time.Minute)
	if !r.invalidate(1) { // a server refused it; the source has no other yet
		t.Fatal("invalidate(1) = false, want a refetch")
	}
	e := next(t, ch, RefreshUnchanged)
	if want := t0.Add(56 * time.Minute); !e.NextRetry.Equal(want) {
		t.Errorf("next attempt at %v, want %v (when the source renews)", e.NextRetry.Sub(t0), want.Sub(t0))
	}
	r.Close()
	close(ch)
	for e := range ch {
		if e.Kind == SourceCachesTokens {
			t.Error("warned about a source that behaves as it said")
		}
	}
}
