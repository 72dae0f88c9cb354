package tokensource

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/fetcherr"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// x/oauth2's ReuseTokenSource hands back its cached token until 10 s before
// expiry (judged by the real clock, which in this test barely moves). Asked
// to refresh early, it returns the same token: the engine must not count that
// as a refresh, must retry on its backoff schedule, and must warn once.
func TestCachingSourceIsNotARefresh(t *testing.T) {
	clk := clocktest.New(time.Now())
	up := lifetimes(clk, time.Hour)
	var logs bytes.Buffer
	ch, obs := events()
	r := refreshing(t, oauth2.ReuseTokenSource(nil, up), WithClock(clk.Now), WithJitter(0), obs,
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	defer r.Close()
	start := clk.Now()
	mustToken(t, r)
	next(t, ch, RefreshSucceeded)
	clk.Advance(45 * time.Minute) // past the refresh point (44m37.5s)
	for i := range 6 {
		if got := mustToken(t, r); got != "tok-1" {
			t.Fatalf("got %q, want the cached tok-1", got)
		}
		e := next(t, ch, RefreshUnchanged)
		if e.Attempt != i+1 {
			t.Fatalf("unchanged #%d reports attempt %d", i+1, e.Attempt)
		}
		clk.Advance(e.NextRetry.Sub(clk.Now())) // to the next retry on the backoff schedule
	}
	if g := r.generation(); g != 1 {
		t.Fatalf("generation after 6 unchanged fetches = %d, want 1", g)
	}
	clk.Advance(time.Hour - 20*time.Second - clk.Now().Sub(start)) // past the engine's 59m30s, before exp
	if got, err := r.Token(); err != nil || got.AccessToken != "tok-1" {
		t.Fatalf("once the engine's copy ran out got %v, %v; want what is left of tok-1", got, err)
	}
	if n := up.calls.Load(); n != 1 {
		t.Fatalf("token requests = %d, want 1 (the cache answered the rest)", n)
	}
	if n := strings.Count(logs.String(), "caches tokens itself"); n != 1 {
		t.Fatalf("warnings in the log = %d, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "tokensource.ClientCredentials") {
		t.Fatalf("the warning does not name the fix:\n%s", logs.String())
	}
	r.Close() // no more events
	close(ch)
	warnings := 0
	for e := range ch {
		if e.Kind == SourceCachesTokens && errors.Is(e.Err, ErrSourceCaches) {
			warnings++
		}
	}
	if warnings != 0 { // the one warning was read by next above
		t.Fatalf("%d more SourceCachesTokens events, want none", warnings)
	}
}

// A different token ends the unchanged streak: a new generation.
func TestUnchangedThenNewTokenIsARefresh(t *testing.T) {
	clk := clocktest.New(t0)
	var same atomic.Bool
	same.Store(true)
	up := lifetimes(clk, time.Hour)
	src := Func(func(ctx context.Context) (*oauth2.Token, error) {
		if up.calls.Load() == 1 && same.Load() && Replacing(ctx) {
			return &oauth2.Token{AccessToken: "tok-1", Expiry: t0.Add(time.Hour)}, nil
		}
		return up.TokenContext(ctx)
	})
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	mustToken(t, r)
	clk.Advance(45 * time.Minute)
	mustToken(t, r)
	e := next(t, ch, RefreshUnchanged)
	same.Store(false)
	clk.Advance(e.NextRetry.Sub(clk.Now()))
	mustToken(t, r)
	if s := next(t, ch, RefreshSucceeded); s.Generation != 2 || s.Attempt != 2 {
		t.Fatalf("refresh after an unchanged fetch: generation %d attempt %d, want 2 and 2", s.Generation, s.Attempt)
	}
}

// A suspended machine: the wall clock moves, the monotonic clock does not.
func TestTokenExpiredDuringSuspendIsNotServed(t *testing.T) {
	clk := clocktest.New(t0)
	src := lifetimes(clk, time.Hour)
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0))
	defer r.Close()
	mustToken(t, r)
	clk.Advance(time.Minute)
	clk.Suspend(2 * time.Hour)
	if got := mustToken(t, r); got != "tok-2" {
		t.Fatalf("first call after a 2 h suspend got %q, want a new token", got)
	}
}

func TestTokenStaleAfterSuspendIsRefreshedByTheFirstCall(t *testing.T) {
	clk := clocktest.New(t0)
	ch, obs := events()
	r := refreshing(t, lifetimes(clk, time.Hour), WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	mustToken(t, r)
	next(t, ch, RefreshSucceeded)
	clk.Suspend(50 * time.Minute) // stale, still valid
	if got := mustToken(t, r); got != "tok-1" {
		t.Fatalf("first call after resume got %q, want the still-valid tok-1 at once", got)
	}
	if e := next(t, ch, RefreshSucceeded); e.Generation != 2 {
		t.Fatalf("background refresh brought generation %d, want 2", e.Generation)
	}
}

func TestExternalExpiredDuringSuspendIsRefused(t *testing.T) {
	clk := clocktest.New(time.Now())
	e, err := newExternal(testjwt.Mint(clk.Now().Add(time.Hour), nil), clock{fake: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	clk.Suspend(2 * time.Hour)
	if _, err := e.Token(); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("after a 2 h suspend got %v, want Unauthenticated", err)
	}
}

// An invalidated token stays the fallback: a failing fetch afterwards costs
// the other callers nothing, and only the caller that needs a newer token
// sees the failure.
func TestInvalidatedTokenStaysWhileTheRefetchFails(t *testing.T) {
	clk := clocktest.New(t0)
	var down atomic.Bool
	up := lifetimes(clk, time.Hour)
	src := Func(func(ctx context.Context) (*oauth2.Token, error) {
		if down.Load() {
			return nil, fetcherr.Unavailable("tokensource", "identity provider down", nil)
		}
		return up.TokenContext(ctx)
	})
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), obs)
	defer r.Close()
	mustToken(t, r)
	down.Store(true)
	if !r.invalidate(1) {
		t.Fatal("Invalidate(1) = false, want a refetch")
	}
	if _, _, err := r.tokenGeneration(context.Background(), 1); status.Code(err) != codes.Unavailable {
		t.Fatalf("a caller needing a newer token got %v, want the fetch's Unavailable", err)
	}
	next(t, ch, RefreshFailed)
	for range 10 {
		if got := mustToken(t, r); got != "tok-1" {
			t.Fatalf("got %q, want the invalidated but valid tok-1", got)
		}
	}
	if r.invalidate(1) {
		t.Fatal("Invalidate during the backoff promised a newer token")
	}
}

// A server that rejects everything: invalidations follow the backoff
// schedule instead of costing one fetch per call.
func TestInvalidationsAreRateLimited(t *testing.T) {
	clk := clocktest.New(t0)
	src := lifetimes(clk, time.Hour)
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0))
	defer r.Close()
	ctx := context.Background()
	for range 20 {
		_, gen, err := r.tokenGeneration(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.invalidate(gen) {
			if _, _, err := r.tokenGeneration(ctx, gen); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("20 rejections within a second cost %d fetches, want 2", n)
	}
	clk.Advance(time.Second) // the first backoff delay
	if !r.invalidate(r.generation()) {
		t.Fatal("no invalidation after the backoff delay")
	}
	clk.Advance(5 * time.Minute) // quiet for longer than the longest backoff
	if !r.invalidate(r.generation()) {
		t.Fatal("the rate limit did not reset after a quiet period")
	}
}

func TestMalformedFetchedTokenIsAFailedFetchWithBackoff(t *testing.T) {
	clk := clocktest.New(t0)
	src := &source{fn: func(context.Context, int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "Zq7x\n", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	r := refreshing(t, src, WithClock(clk.Now))
	defer r.Close()
	for range 20 {
		_, err := r.Token()
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "control character") {
			t.Fatalf("got %v, want Unavailable naming the control character", err)
		}
		if strings.Contains(err.Error(), "Zq7x") {
			t.Fatalf("error quotes the token: %v", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("20 calls cost %d fetches, want 1 (the rest wait for the backoff)", n)
	}
}

// Close returns within the fetch timeout even if the source ignores its
// context (a File on a hung mount, a plain oauth2.TokenSource).
func TestCloseDoesNotWaitForASourceThatIgnoresItsContext(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	hung := tokenSourceFunc(func() (*oauth2.Token, error) {
		close(entered)
		<-release
		return nil, errors.New("released")
	})
	r := refreshing(t, engine.AsContext(hung), WithFetchTimeout(time.Hour))
	go r.Token()
	<-entered
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s while the source hung")
	}
	close(release)
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// An External's generation protocol, as a connection sees it: numbered
// updates, and no invalidation (only the application can replace its token).
func TestExternalGenerations(t *testing.T) {
	e, err := NewExternal("first-token")
	if err != nil {
		t.Fatal(err)
	}
	g, ok := engine.Of(e)
	if !ok {
		t.Fatal("engine.Of(*External) found no generation protocol")
	}
	if err := e.Update("second-token"); err != nil {
		t.Fatal(err)
	}
	tok, gen, err := g.TokenGeneration(context.Background(), 0)
	if err != nil || tok.AccessToken != "second-token" || gen != 2 || g.Generation() != 2 {
		t.Fatalf("after Update got %v generation %d (%v), want second-token and 2", tok, gen, err)
	}
	if g.Invalidate(2) {
		t.Fatal("Invalidate on an external token promised a newer one")
	}
	if _, _, err := g.TokenGeneration(context.Background(), 2); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a token newer than the current one: %v, want Unauthenticated (only the application can supply one)", err)
	}
}

func TestSucceededReportsTheRealAttempt(t *testing.T) {
	clk := clocktest.New(t0)
	src := &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		if n < 3 {
			return nil, fetcherr.Unavailable("tokensource", "down", nil)
		}
		return &oauth2.Token{AccessToken: "ok", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	for range 3 {
		r.Token()
		clk.Advance(2 * time.Second)
	}
	if e := next(t, ch, RefreshSucceeded); e.Attempt != 3 {
		t.Fatalf("RefreshSucceeded.Attempt = %d, want 3", e.Attempt)
	}
}

// Events reach the observer one at a time and in order: every fetch's
// outcome comes after its start and before the next start.
func TestEventsArriveInOrderOneAtATime(t *testing.T) {
	clk := clocktest.New(t0)
	var mu sync.Mutex
	var kinds []EventKind
	var inside, overlaps atomic.Int64
	obs := WithObserver(func(e Event) {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(50 * time.Microsecond) // widen any overlap
		mu.Lock()
		kinds = append(kinds, e.Kind)
		mu.Unlock()
		inside.Add(-1)
	})
	r := refreshing(t, lifetimes(clk, time.Hour), WithClock(clk.Now), obs)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				_, gen, _ := r.tokenGeneration(context.Background(), 0)
				r.invalidate(gen)
				clk.Advance(10 * time.Minute)
			}
		})
	}
	wg.Wait()
	r.Close()
	if overlaps.Load() != 0 {
		t.Fatalf("the observer ran concurrently %d times", overlaps.Load())
	}
	open := false
	for i, k := range kinds {
		switch k {
		case RefreshStarted:
			if open {
				t.Fatalf("event %d: a fetch started before the previous one's outcome: %v", i, kinds[max(0, i-4):i+1])
			}
			open = true
		case RefreshSucceeded, RefreshFailed, RefreshUnchanged:
			if !open {
				t.Fatalf("event %d: an outcome without a start: %v", i, kinds[max(0, i-4):i+1])
			}
			open = false
		}
	}
	if len(kinds) < 10 {
		t.Fatalf("only %d events", len(kinds))
	}
}
