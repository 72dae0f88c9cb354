package tokensource

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"golang.org/x/oauth2"
)

// A caller with no usable token waits for the fetch, and the observer hears
// how long; a caller served from the cache is not reported.
func TestCallerWaitedIsReported(t *testing.T) {
	clk := clocktest.New(t0)
	ch, obs := events()
	started, release := make(chan struct{}), make(chan struct{})
	src := &source{fn: func(context.Context, int64) (*oauth2.Token, error) {
		close(started)
		<-release
		return &oauth2.Token{AccessToken: "tok", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	r := refreshing(t, src, WithClock(clk.Now), obs)
	go func() { <-started; close(release) }() // the caller is already waiting for this fetch
	mustToken(t, r)
	if e := next(t, ch, CallerWaited); e.Took <= 0 || e.Err != nil {
		t.Fatalf("CallerWaited = %+v, want Took > 0 and no error", e)
	}
	mustToken(t, r)
	r.Close() // every event has been delivered once Close returns
	close(ch)
	for e := range ch {
		if e.Kind == CallerWaited {
			t.Fatal("a caller served from the cache was reported as waiting")
		}
	}
}

// A failed background refresh says whether a usable token is still served;
// every outcome carries how long its fetch took.
func TestRefreshFailedSaysWhetherATokenIsServed(t *testing.T) {
	clk := clocktest.New(t0)
	ch, obs := events()
	src := &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		if n > 1 {
			return nil, errors.New("down")
		}
		return &oauth2.Token{AccessToken: "tok-1", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	mustToken(t, r)
	if e := next(t, ch, RefreshSucceeded); e.Took <= 0 {
		t.Fatalf("RefreshSucceeded.Took = %v", e.Took)
	}
	clk.Advance(50 * time.Minute) // stale, still usable
	mustToken(t, r)
	if e := next(t, ch, RefreshFailed); !e.Serving || e.Took <= 0 {
		t.Fatalf("background failure: Serving = %v, Took = %v; want true, > 0", e.Serving, e.Took)
	}
	clk.Advance(2 * time.Hour) // expired
	if _, err := r.Token(); err == nil {
		t.Fatal("no error after expiry with the provider down")
	}
	if e := next(t, ch, RefreshFailed); e.Serving {
		t.Fatal("failure after expiry: Serving = true")
	}
}

func TestExpiryIsWhenTheTokenStopsBeingServed(t *testing.T) {
	clk := clocktest.New(t0)
	r := refreshing(t, lifetimes(clk, time.Hour), WithClock(clk.Now))
	if !r.expiry().IsZero() {
		t.Fatalf("Expiry before the first token = %v", r.expiry())
	}
	mustToken(t, r)
	if got, want := r.expiry(), t0.Add(time.Hour-30*time.Second); !got.Equal(want) {
		t.Fatalf("Expiry = %v, want %v", got, want)
	}
	r.Close()
	if !r.expiry().IsZero() {
		t.Fatalf("Expiry after Close = %v", r.expiry())
	}
}
