package tokensource

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFreshTokenIsServedWithoutFetching(t *testing.T) {
	clk := clocktest.New(t0)
	src := lifetimes(clk, time.Hour)
	r := refreshing(t, src, WithClock(clk.Now))
	defer r.Close()
	for range 100 {
		if got := mustToken(t, r); got != "tok-1" {
			t.Fatalf("token = %q, want tok-1", got)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
	if g := r.generation(); g != 1 {
		t.Fatalf("generation = %d, want 1", g)
	}
}

func TestRefreshPointScalesWithLifetime(t *testing.T) {
	for _, tc := range []struct {
		life, refreshAt, expiry time.Duration
	}{
		{time.Hour, (time.Hour - 30*time.Second) * 3 / 4, time.Hour - 30*time.Second},       // 75% of the usable life wins
		{10 * time.Minute, 5*time.Minute - 30*time.Second, 10*time.Minute - 30*time.Second}, // RefreshBefore wins
		{2 * time.Second, 1350 * time.Millisecond, 1800 * time.Millisecond},                 // leeway scales
	} {
		clk := clocktest.New(t0)
		ch, obs := events()
		r := refreshing(t, lifetimes(clk, tc.life), WithClock(clk.Now), WithJitter(0), obs)
		mustToken(t, r)
		e := next(t, ch, RefreshSucceeded)
		if got := e.RefreshAt.Sub(t0); got != tc.refreshAt {
			t.Errorf("life %v: refresh after %v, want %v", tc.life, got, tc.refreshAt)
		}
		if got := e.Expiry.Sub(t0); got != tc.expiry {
			t.Errorf("life %v: served until %v, want %v", tc.life, got, tc.expiry)
		}
		r.Close()
	}
}

func TestJitterMovesRefreshEarlierWithinBound(t *testing.T) {
	clk := clocktest.New(t0)
	ch, obs := events()
	r := refreshing(t, lifetimes(clk, time.Hour), WithClock(clk.Now), obs)
	defer r.Close()
	mustToken(t, r)
	got := next(t, ch, RefreshSucceeded).RefreshAt.Sub(t0)
	if want := (time.Hour - 30*time.Second) * 3 / 4; got > want || got < want*9/10 {
		t.Fatalf("refresh after %v, want within 10%% before 44m37.5s", got)
	}
}

func TestRefreshInHintIsHonoured(t *testing.T) {
	clk := clocktest.New(t0)
	src := &source{fn: func(context.Context, int64) (*oauth2.Token, error) {
		tok := &oauth2.Token{AccessToken: "a", Expiry: clk.Now().Add(time.Hour)}
		return tok.WithExtra(map[string]any{"refresh_in": float64(600)}), nil
	}}
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	mustToken(t, r)
	if got := next(t, ch, RefreshSucceeded).RefreshAt.Sub(t0); got != 10*time.Minute {
		t.Fatalf("refresh after %v, want the hinted 10m", got)
	}
}

func TestExpiryFromJWTClaimWhenTokenExpiryIsZero(t *testing.T) {
	clk := clocktest.New(time.Now())
	jwtTok := testjwt.Mint(clk.Now().Add(time.Hour), nil)
	src := &source{fn: func(context.Context, int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: jwtTok}, nil
	}}
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	mustToken(t, r)
	e := next(t, ch, RefreshSucceeded)
	if e.Expiry.IsZero() || e.Expiry.After(clk.Now().Add(time.Hour)) || e.Expiry.Before(clk.Now().Add(59*time.Minute)) {
		t.Fatalf("expiry %v not derived from the exp claim", e.Expiry)
	}
}

func TestTwoSecondTokenWorksWithDefaults(t *testing.T) {
	clk := clocktest.New(t0)
	src := lifetimes(clk, 2*time.Second)
	r := refreshing(t, src, WithClock(clk.Now))
	defer r.Close()
	if got := mustToken(t, r); got != "tok-1" {
		t.Fatalf("got %q", got)
	}
	clk.Advance(1900 * time.Millisecond) // past the 1.8 s usable lifetime
	if got := mustToken(t, r); got != "tok-2" {
		t.Fatalf("after expiry got %q, want tok-2", got)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("upstream calls = %d, want 2", n)
	}
}

// The core promise: while a token is stale and its refresh hangs upstream,
// every caller still gets the cached token at once, and exactly one upstream
// call is in flight.
func TestStaleTokenServedWhileRefreshHangs(t *testing.T) {
	clk := clocktest.New(t0)
	release := make(chan struct{})
	var inFlight, maxInFlight atomic.Int64
	src := &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		if n > 1 {
			maxInFlight.Store(max(maxInFlight.Load(), inFlight.Add(1)))
			<-release
			inFlight.Add(-1)
		}
		return &oauth2.Token{AccessToken: "tok-" + string(rune('0'+n)), Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), obs)
	defer r.Close()
	mustToken(t, r)
	clk.Advance(50 * time.Minute) // stale, not expired

	var wg sync.WaitGroup
	var wrong atomic.Int64
	for range 64 {
		wg.Go(func() {
			for range 1000 {
				if tok, err := r.Token(); err != nil || tok.AccessToken != "tok-1" {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if wrong.Load() != 0 {
		t.Fatalf("%d calls did not get the cached token", wrong.Load())
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("upstream calls = %d, want 2 (initial + one refresh)", n)
	}
	close(release)
	next(t, ch, RefreshSucceeded)
	next(t, ch, RefreshSucceeded)
	if got := mustToken(t, r); got != "tok-2" {
		t.Fatalf("after refresh got %q, want tok-2", got)
	}
	if maxInFlight.Load() != 1 {
		t.Fatalf("max in flight = %d, want 1", maxInFlight.Load())
	}
}

func TestColdHerdSharesOneFetchAndDeadlinesAreIndividual(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	src := &source{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		close(entered)
		<-release
		return &oauth2.Token{AccessToken: "shared", Expiry: time.Now().Add(time.Hour)}, nil
	}}
	r := refreshing(t, src)
	defer r.Close()

	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 1000 {
		wg.Go(func() {
			if tok, err := r.Token(); err == nil && tok.AccessToken == "shared" {
				ok.Add(1)
			}
		})
	}
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := r.TokenContext(ctx)
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("impatient caller: %v, want DeadlineExceeded", err)
	}
	close(release) // only now does the shared fetch finish
	wg.Wait()
	if ok.Load() != 1000 {
		t.Fatalf("%d of 1000 callers got the token", ok.Load())
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}

func TestCallerCancellationDoesNotCancelTheFetch(t *testing.T) {
	release := make(chan struct{})
	var fetchErr atomic.Value
	src := &source{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		<-release
		if ctx.Err() != nil {
			fetchErr.Store(ctx.Err())
		}
		return &oauth2.Token{AccessToken: "t"}, nil
	}}
	r := refreshing(t, src)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := r.TokenContext(ctx); done <- err }()
	cancel()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Fatalf("got %v, want Canceled", err)
	}
	close(release)
	if got := mustToken(t, r); got != "t" {
		t.Fatalf("got %q", got)
	}
	if e := fetchErr.Load(); e != nil {
		t.Fatalf("fetch context was canceled: %v", e)
	}
}

func TestFailuresKeepValidTokenAndBackOff(t *testing.T) {
	clk := clocktest.New(t0)
	src := &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		if n == 1 {
			return &oauth2.Token{AccessToken: "good", Expiry: clk.Now().Add(time.Hour)}, nil
		}
		return nil, errors.New("upstream down")
	}}
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0), obs)
	defer r.Close()
	mustToken(t, r)
	clk.Advance(45 * time.Minute) // stale

	// Call every 100 ms of fake time for 10 s. Backoff 1, 1.6, 2.56, 4.1 s
	// puts attempts at 0, 1, 2.6, 5.16 and 9.26 s: 5 attempts.
	for range 100 {
		if got := mustToken(t, r); got != "good" {
			t.Fatalf("got %q while the token is valid", got)
		}
		if r.busy.Load() {
			next(t, ch, RefreshFailed)
		}
		clk.Advance(100 * time.Millisecond)
	}
	if n := src.calls.Load() - 1; n != 5 {
		t.Fatalf("refresh attempts in 10 s = %d, want 5", n)
	}
}

func TestAfterExpiryFailureIsReturnedDuringBackoff(t *testing.T) {
	clk := clocktest.New(t0)
	src := &source{fn: func(context.Context, int64) (*oauth2.Token, error) {
		return nil, errors.New("upstream down")
	}}
	r := refreshing(t, src, WithClock(clk.Now), WithJitter(0))
	defer r.Close()
	for range 10 {
		if _, err := r.Token(); status.Code(err) != codes.Unavailable {
			t.Fatalf("got %v, want Unavailable", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("upstream calls during backoff = %d, want 1", n)
	}
	clk.Advance(time.Second)
	r.Token()
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("upstream calls after backoff = %d, want 2", n)
	}
}

func TestInvalidateOnceForManyFailures(t *testing.T) {
	clk := clocktest.New(t0)
	src := lifetimes(clk, time.Hour)
	r := refreshing(t, src, WithClock(clk.Now))
	defer r.Close()
	mustToken(t, r)
	gen := r.generation()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { r.invalidate(gen) })
	}
	wg.Wait()
	tok, g, err := r.tokenGeneration(context.Background(), gen)
	if err != nil || tok.AccessToken != "tok-2" || g != gen+1 {
		t.Fatalf("after invalidation got %v, %d, %v; want tok-2, %d", tok, g, err, gen+1)
	}
	r.invalidate(gen) // stale generation: ignored
	if got := mustToken(t, r); got != "tok-2" || src.calls.Load() != 2 {
		t.Fatalf("got %q after %d calls, want tok-2 after 2", got, src.calls.Load())
	}
}

func TestRejectsUnusableFetchedTokens(t *testing.T) {
	for name, tok := range map[string]*oauth2.Token{
		"nil":     nil,
		"empty":   {},
		"expired": {AccessToken: "x", Expiry: t0.Add(-time.Second)},
	} {
		src := &source{fn: func(context.Context, int64) (*oauth2.Token, error) { return tok, nil }}
		r := refreshing(t, src, WithClock(func() time.Time { return t0 }))
		if _, err := r.Token(); status.Code(err) != codes.Unavailable {
			t.Errorf("%s: got %v, want Unavailable", name, err)
		}
		r.Close()
	}
}

func TestCloseCancelsFetchAndRefusesCalls(t *testing.T) {
	entered := make(chan struct{})
	src := &source{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		close(entered)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	r := refreshing(t, src)
	done := make(chan error)
	go func() { _, err := r.Token(); done <- err }()
	<-entered
	r.Close()
	if err := <-done; err == nil {
		t.Fatal("waiting caller got no error after Close")
	}
	if _, err := r.Token(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	r.Close() // idempotent
}

// Refreshing refuses what it cannot serve well, and every out-of-range
// option, naming it; it never ignores an option.
func TestRefreshingRefusesMisuse(t *testing.T) {
	src := Func(func(context.Context) (*oauth2.Token, error) { return nil, nil })
	r := refreshing(t, src)
	defer r.Close()
	ext, err := NewExternal("tok")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		src  oauth2.TokenSource
		opts []Option
		want string
	}{
		{"nil source", nil, nil, "got nil"},
		{"nil *Refresher", (*Refresher)(nil), nil, "got a nil *tokensource.Refresher"},
		{"nil Func", Func(nil), nil, "got a nil tokensource.Func"},
		{"an engine", r, nil, "already a refresh engine"},
		{"an External", ext, nil, "needs no engine"},
		{"negative refresh", src, []Option{WithRefreshBefore(-1)}, "WithRefreshBefore"},
		{"negative leeway", src, []Option{WithLeeway(-time.Second)}, "WithLeeway"},
		{"jitter 1", src, []Option{WithJitter(1)}, "WithJitter"},
		{"jitter NaN", src, []Option{WithJitter(math.NaN())}, "WithJitter"},
		{"zero timeout", src, []Option{WithFetchTimeout(0)}, "WithFetchTimeout"},
		{"max below base", src, []Option{WithBackoff(time.Minute, time.Second)}, "WithBackoff"},
	} {
		got, err := Refreshing(tc.src, tc.opts...)
		if got != nil || err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tokensource: ") {
			t.Errorf("%s: Refreshing = %v, %v; want an error naming %q", tc.name, got, err, tc.want)
		}
	}
}

func TestHotPathAllocatesNothing(t *testing.T) {
	r := refreshing(t, Func(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil
	}))
	defer r.Close()
	mustToken(t, r)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { r.TokenContext(ctx) }); n != 0 {
		t.Fatalf("allocs per call = %v, want 0", n)
	}
}

// A slow provider is asked early enough for the next token to arrive before
// the current one stops being served: a lead (see fetchTimes) before the end
// of the usable life, or at once if the token barely outlives a fetch.
func TestSlowProviderIsAskedEarly(t *testing.T) {
	c := mustConfig(t, WithJitter(0))
	tok := &oauth2.Token{AccessToken: "t"}
	for _, tc := range []struct{ life, lead, want time.Duration }{
		{time.Hour, 250 * time.Millisecond, 45 * time.Minute},                 // fast enough: 75% stands
		{90 * time.Millisecond, 60 * time.Millisecond, 30 * time.Millisecond}, // 90 − 60
		{54 * time.Millisecond, 62 * time.Millisecond, 0},                     // at once
	} {
		if got := c.refreshIn(tok, tc.life, tc.lead); got != tc.want {
			t.Errorf("life %v, lead %v: refresh after %v, want %v", tc.life, tc.lead, got, tc.want)
		}
	}
}
