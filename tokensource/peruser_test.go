package tokensource

import (
	"context"
	"fmt"
	"runtime"
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

// exchanges is a UserFunc stand-in: it counts fetches per incoming token and
// answers "down-<incoming>" living an hour, after gate (if set) lets it.
type exchanges struct {
	mu    sync.Mutex
	calls map[string]int
	total atomic.Int64
	gate  func(incoming string)
	now   func() time.Time
}

func newExchanges(now func() time.Time) *exchanges {
	return &exchanges{calls: map[string]int{}, now: now}
}

func (e *exchanges) fetch(ctx context.Context, incoming string) (*oauth2.Token, error) {
	e.total.Add(1)
	e.mu.Lock()
	e.calls[incoming]++
	e.mu.Unlock()
	if e.gate != nil {
		e.gate(incoming)
	}
	return &oauth2.Token{AccessToken: "down-" + incoming, Expiry: e.now().Add(time.Hour)}, nil
}

func (e *exchanges) count(incoming string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[incoming]
}

func TestPerUserOneFetchPerUser(t *testing.T) {
	ex := newExchanges(time.Now)
	release := make(chan struct{})
	ex.gate = func(string) { <-release }
	p, err := NewPerUser(ex.fetch, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	user := testjwt.Mint(time.Now().Add(time.Hour), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for range 1000 {
		wg.Go(func() {
			tok, err := p.Token(context.Background(), user)
			if err == nil && tok.AccessToken != "down-"+user {
				err = fmt.Errorf("got another user's token")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	waitFor(t, func() bool { return ex.total.Load() == 1 })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := ex.count(user); n != 1 {
		t.Fatalf("1000 cold calls for one user made %d exchanges, want 1", n)
	}
}

// TestPerUserCallersWaitOnlyForTheirOwn: 1000 users, one of them stuck at
// the identity provider; the other 999 get their tokens, one exchange each.
func TestPerUserCallersWaitOnlyForTheirOwn(t *testing.T) {
	ex := newExchanges(time.Now)
	stuck := make(chan struct{})
	ex.gate = func(in string) {
		if in == "user-0" {
			<-stuck
		}
	}
	p, err := NewPerUser(ex.fetch, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	blocked := make(chan error, 1)
	go func() {
		_, err := p.Token(context.Background(), "user-0")
		blocked <- err
	}()
	waitFor(t, func() bool { return ex.count("user-0") == 1 })
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 1; i < 1000; i++ {
		wg.Go(func() {
			u := fmt.Sprintf("user-%d", i)
			if tok, err := p.Token(context.Background(), u); err != nil || tok.AccessToken != "down-"+u {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	select {
	case <-blocked:
		t.Fatal("the stuck user's call returned before its exchange did")
	default:
	}
	close(stuck)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if failed.Load() != 0 || ex.total.Load() != 1000 {
		t.Fatalf("failed %d calls; %d exchanges for 1000 users, want 0 and 1000", failed.Load(), ex.total.Load())
	}
}

func TestPerUserBoundEvictsLeastRecentlyUsed(t *testing.T) {
	clk := clocktest.New(t0)
	ex := newExchanges(clk.Now)
	p, err := NewPerUser(ex.fetch, 100, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for i := range 250 {
		clk.Advance(time.Millisecond)
		if _, err := p.Token(ctx, fmt.Sprintf("user-%d", i)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Millisecond)
		if _, err := p.Token(ctx, "user-0"); err != nil { // kept warm
			t.Fatal(err)
		}
		if n := p.Len(); n > 100 {
			t.Fatalf("%d users kept, bound 100", n)
		}
	}
	if n := ex.count("user-0"); n != 1 {
		t.Fatalf("the user in constant use was fetched %d times, want 1 (evicted though recently used)", n)
	}
	if _, err := p.Token(ctx, "user-1"); err != nil {
		t.Fatal(err)
	}
	if n := ex.count("user-1"); n != 2 {
		t.Fatalf("an evicted user was fetched %d times in all, want 2 (gone, then made afresh)", n)
	}
	if n := ex.count("user-249"); n != 1 {
		t.Fatalf("the newest user was fetched %d times, want 1", n)
	}
}

func TestPerUserLivesNoLongerThanTheIncomingToken(t *testing.T) {
	clk := clocktest.New(time.Now())
	ex := newExchanges(clk.Now)
	p, err := NewPerUser(ex.fetch, 0, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	in := testjwt.Mint(clk.Now().Add(10*time.Minute), nil)
	for range 3 {
		if _, err := p.Token(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := ex.count(in); n != 1 {
		t.Fatalf("%d exchanges, want 1", n)
	}
	clk.Advance(11 * time.Minute) // the incoming token has expired
	_, err = p.Token(ctx, in)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("expired incoming token: %v, want Unauthenticated", err)
	}
	if n := ex.count(in); n != 1 {
		t.Fatalf("an expired incoming token was exchanged (%d exchanges)", n)
	}
	fresh := testjwt.Mint(clk.Now().Add(10*time.Minute), nil)
	if _, err := p.Token(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if n := p.Len(); n != 1 {
		t.Fatalf("%d users kept after the first one's token expired, want 1", n)
	}
}

func TestPerUserRefusesUnusableIncomingTokens(t *testing.T) {
	ex := newExchanges(time.Now)
	p, err := NewPerUser(ex.fetch, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, in := range []string{"", "has space", "Bearer x", "a\nb"} {
		_, err := p.Token(context.Background(), in)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%q: %v, want Unauthenticated", in, err)
		}
	}
	if ex.total.Load() != 0 {
		t.Fatalf("%d exchanges for unusable tokens", ex.total.Load())
	}
}

func TestPerUserClose(t *testing.T) {
	ex := newExchanges(time.Now)
	p, err := NewPerUser(ex.fetch, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Token(context.Background(), "u"); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Token(context.Background(), "u"); err != ErrClosed {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	if _, err := NewPerUser(nil, 0); err == nil {
		t.Fatal("NewPerUser(nil) accepted")
	}
	if _, err := NewPerUser(ex.fetch, -1); err == nil {
		t.Fatal("a negative bound accepted")
	}
	if _, err := NewPerUser(ex.fetch, 0, WithJitter(2)); err == nil {
		t.Fatal("a bad engine option accepted")
	}
}

// TestPerUserMemoryAndGoroutines: 10 000 idle users stay within the bound
// stated in PerUser's doc and start no goroutine.
func TestPerUserMemoryAndGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 10 000 users")
	}
	const users = 10000
	ex := newExchanges(time.Now)
	p, err := NewPerUser(ex.fetch, users)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("user-%05d", i)
	}
	before, g0 := heap(), runtime.NumGoroutine()
	for _, u := range names {
		if _, err := p.Token(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	per := (heap() - before) / users
	g1 := runtime.NumGoroutine()
	t.Logf("%d idle users: %d bytes each, %d goroutines before, %d after", users, per, g0, g1)
	if per > 2048 {
		t.Errorf("%d bytes per idle user, more than the 2 KiB stated", per)
	}
	if g1 > g0+5 {
		t.Errorf("%d goroutines for %d idle users (%d before)", g1, users, g0)
	}
	if _, err := p.Token(context.Background(), "one-more"); err != nil {
		t.Fatal(err)
	}
	if n := p.Len(); n != users {
		t.Fatalf("%d users kept, bound %d", n, users)
	}
}

func heap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not met within 5 s")
}

// BenchmarkPerUserWarm is the per-user path on a call with a warm cache: the
// hash of a 936-byte incoming JWT, the lookup, and the engine's fast path.
func BenchmarkPerUserWarm(b *testing.B) {
	ex := newExchanges(time.Now)
	p, err := NewPerUser(ex.fetch, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	in := testjwt.Mint(time.Now().Add(time.Hour), nil)
	ctx := context.Background()
	for i := range 1000 {
		p.Token(ctx, fmt.Sprintf("other-%d", i))
	}
	if _, err := p.Token(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.Logf("incoming token: %d bytes", len(in))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Token(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPerUserNeverEvictsWaitingCallers: with a bound of 1 and slow fetches,
// users whose callers are waiting for their first token are not evicted
// from under them; the bound is exceeded while they wait, and restored by
// the next new user once they are done.
func TestPerUserNeverEvictsWaitingCallers(t *testing.T) {
	ex := newExchanges(time.Now)
	release := make(chan struct{})
	ex.gate = func(string) { <-release }
	p, err := NewPerUser(ex.fetch, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, u := range []string{"user-a", "user-b", "user-a", "user-b"} {
		wg.Go(func() {
			if _, err := p.Token(context.Background(), u); err != nil {
				errs <- err
			}
		})
	}
	waitFor(t, func() bool { return ex.total.Load() == 2 })
	if n := p.Len(); n != 2 {
		t.Fatalf("%d users kept while both have callers waiting, want 2", n)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a waiting caller failed: %v", err)
	}
	if ex.total.Load() != 2 {
		t.Fatalf("%d fetches for 2 users, want 2", ex.total.Load())
	}
	if _, err := p.Token(context.Background(), "user-c"); err != nil {
		t.Fatal(err)
	}
	if n := p.Len(); n != 1 {
		t.Fatalf("%d users kept once idle, want the bound, 1", n)
	}
}

// TestPerUserReplacesARejectedToken: the generation protocol a connection
// uses to resend a call whose per-user token the server rejected. The
// rejected user's token is replaced, once; a resend that names another
// engine (the user's was replaced meanwhile) takes the current token.
func TestPerUserReplacesARejectedToken(t *testing.T) {
	var n atomic.Int64
	p, err := NewPerUser(func(_ context.Context, incoming string) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("down-%d", n.Add(1)), Expiry: time.Now().Add(time.Hour)}, nil
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	ada, bob := testjwt.Mint(time.Now().Add(time.Hour), nil), testjwt.Mint(time.Now().Add(2*time.Hour), nil)
	first, adaEng, gen, err := userToken(ctx, p, ada, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, bobEng, bobGen, err := userToken(ctx, p, bob, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if adaEng == bobEng {
		t.Fatal("two users share an engine")
	}
	if !adaEng.Invalidate(gen) {
		t.Fatal("the invalidation of ada's token was refused")
	}
	second, eng, gen2, err := userToken(ctx, p, ada, adaEng, gen)
	if err != nil || eng != adaEng || gen2 <= gen || second.AccessToken == first.AccessToken {
		t.Fatalf("the resend got %v (generation %d after %d, same engine %v, new token %v), want a new token from the same engine",
			err, gen2, gen, eng == adaEng, second.AccessToken != first.AccessToken)
	}
	// bob's engine named with a generation ada's has not reached: ignored,
	// ada's current token at once, with no fetch.
	before := n.Load()
	tok, _, _, err := userToken(ctx, p, ada, bobEng, gen2+bobGen+10)
	if err != nil || tok != second || n.Load() != before {
		t.Fatalf("a resend naming another engine: %v, current token %v, %d fetches; want ada's current token and no fetch", err, tok == second, n.Load()-before)
	}
	if _, _, _, err := userToken(ctx, "not a PerUser", ada, nil, 0); status.Code(err) != codes.Internal {
		t.Fatalf("%v, want Internal", err)
	}
}
