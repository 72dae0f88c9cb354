package tokensource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/clocktest"
	"golang.org/x/oauth2"
)

// fakeTimers stands in for time.AfterFunc on a fake clock: the test fires
// the timers that are due.
type fakeTimers struct {
	clk     *clocktest.Clock
	mu      sync.Mutex
	pending []*fakeTimer
	made    int
}

type fakeTimer struct {
	timers      *fakeTimers
	at          time.Time
	f           func()
	fired, stop bool
}

func (ft *fakeTimers) afterFunc(d time.Duration, f func()) stopper {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{timers: ft, at: ft.clk.Now().Add(d), f: f}
	ft.pending = append(ft.pending, t)
	ft.made++
	return t
}

func (t *fakeTimer) Stop() bool {
	t.timers.mu.Lock()
	defer t.timers.mu.Unlock()
	was := !t.fired && !t.stop
	t.stop = true
	return was
}

// fire runs the timers due by now, earliest first, on the caller's
// goroutine.
func (ft *fakeTimers) fire() {
	for {
		t := ft.due()
		if t == nil {
			return
		}
		t.f()
	}
}

// due takes the earliest timer due, or nil.
func (ft *fakeTimers) due() *fakeTimer {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.pending = slices.DeleteFunc(ft.pending, func(t *fakeTimer) bool { return t.stop })
	slices.SortFunc(ft.pending, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	if len(ft.pending) == 0 || ft.pending[0].at.After(ft.clk.Now()) {
		return nil
	}
	t := ft.pending[0]
	ft.pending = ft.pending[1:]
	t.fired = true
	return t
}

// armed counts the timers neither fired nor stopped.
func (ft *fakeTimers) armed() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(slices.DeleteFunc(ft.pending, func(t *fakeTimer) bool { return t.stop }))
}

// sim drives an engine on a fake clock in steps. Fetch n takes took(n) and
// fails with fail(n), if set, or brings a token that lives life from when it
// lands. At every step, while calling says so, a caller asks for a token
// without waiting; late counts the callers that found none once the first
// token had landed.
type sim struct {
	t        *testing.T
	clk      *clocktest.Clock
	timers   *fakeTimers
	r        *Refresher
	life     time.Duration
	took     func(n int64) time.Duration
	fail     func(n int64) error
	calling  func(at time.Duration) bool
	begin    time.Time
	started  chan *fetching
	outcomes chan Event
	waited   atomic.Int64

	flight    []*fetching // in flight, in the order started
	all       []*fetching // every fetch, in the order started
	maxFlight int
	landed    int
	late      int
	lastCall  time.Time
}

type fetching struct {
	n        int64
	at, done time.Time
	release  chan error
}

func newSim(t *testing.T, life time.Duration, took func(int64) time.Duration, opts ...Option) *sim {
	s := &sim{t: t, clk: clocktest.New(t0), life: life, took: took, begin: t0,
		calling: func(time.Duration) bool { return true },
		started: make(chan *fetching, 16), outcomes: make(chan Event, 1024)}
	s.timers = &fakeTimers{clk: s.clk}
	obs := WithObserver(func(e Event) {
		switch e.Kind {
		case CallerWaited:
			s.waited.Add(1)
		case RefreshSucceeded, RefreshFailed, RefreshUnchanged:
			s.outcomes <- e
		}
	})
	opts = append([]Option{WithClock(s.clk.Now), WithJitter(0), obs}, opts...)
	s.r = refreshing(t, &source{fn: s.fetch}, opts...)
	s.r.cfg.afterFunc, s.r.cfg.mono = s.timers.afterFunc, s.clk.Monotonic
	t.Cleanup(func() { s.r.Close() })
	return s
}

// fetch is the source: it tells the test it started and waits to be let go.
func (s *sim) fetch(ctx context.Context, n int64) (*oauth2.Token, error) {
	f := &fetching{n: n, at: s.clk.Now(), release: make(chan error)}
	select {
	case s.started <- f:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-f.release:
		if err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: s.clk.Now().Add(s.life)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run steps the clock by step for d: fetches that are due land, timers that
// are due fire, and a caller asks for a token.
func (s *sim) run(d, step time.Duration) {
	s.t.Helper()
	for end := s.clk.Now().Add(d); s.clk.Now().Before(end); s.clk.Advance(step) {
		s.land()
		s.timers.fire()
		s.sync()
		if s.calling(s.clk.Now().Sub(s.begin)) {
			s.call()
		}
	}
}

// call asks for a token as a caller that does not wait would.
func (s *sim) call() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := s.waited.Load()
	s.r.TokenContext(ctx)
	if s.landed > 0 && s.waited.Load() > before {
		s.late++
	}
	s.lastCall = s.clk.Now()
	s.sync()
}

// land lets the fetches that are due end, one at a time, each once the
// engine has settled the one before.
func (s *sim) land() {
	s.t.Helper()
	for {
		i := slices.IndexFunc(s.flight, func(f *fetching) bool { return !s.clk.Now().Before(f.at.Add(s.took(f.n))) })
		if i < 0 {
			return
		}
		f := s.flight[i]
		s.flight = slices.Delete(s.flight, i, i+1)
		var err error
		if s.fail != nil {
			err = s.fail(f.n)
		}
		f.release <- err
		s.outcome()
		f.done = s.clk.Now()
		if err == nil {
			s.landed++
		}
		s.sync()
	}
}

func (s *sim) outcome() Event {
	s.t.Helper()
	select {
	case e := <-s.outcomes:
		return e
	case <-time.After(10 * time.Second):
		s.t.Fatal("no fetch outcome within 10 s")
		return Event{}
	}
}

// sync waits until every fetch the engine started has reached the source.
func (s *sim) sync() {
	s.t.Helper()
	for {
		s.r.mu.Lock()
		n := len(s.r.calls)
		s.r.mu.Unlock()
		if len(s.flight) >= n {
			return
		}
		select {
		case f := <-s.started:
			s.flight = append(s.flight, f)
			s.all = append(s.all, f)
			s.maxFlight = max(s.maxFlight, len(s.flight))
		case <-time.After(10 * time.Second):
			s.t.Fatal("a fetch did not reach the source within 10 s")
		}
	}
}

// startedAfter counts the fetches started after t.
func (s *sim) startedAfter(t time.Time) int {
	n := 0
	for _, f := range s.all {
		if f.at.After(t) {
			n++
		}
	}
	return n
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// Tokens that barely outlive a fetch (usable 54 ms, fetched in about 50):
// the next fetch starts before the one in flight ends, so that after the
// first token no caller ever waits, with at most two fetches in flight.
func TestOverlapKeepsTokensThatBarelyOutliveAFetch(t *testing.T) {
	for _, tc := range []struct {
		name string
		took func(n int64) time.Duration
	}{
		{"50ms", func(int64) time.Duration { return ms(50) }},
		{"45 or 55ms", func(n int64) time.Duration { return ms(45 + float64(n%2)*10) }},
		{"slow first", func(n int64) time.Duration { return ms(map[bool]float64{true: 80, false: 50}[n == 1]) }},
		{"one slower", func(n int64) time.Duration { return ms(map[bool]float64{true: 58, false: 48}[n == 12]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, ms(60), tc.took)
			s.run(2*time.Second, time.Millisecond) // some 37 lifetimes
			if s.late != 0 {
				t.Errorf("%d calls found no token after the first landed, want 0", s.late)
			}
			if s.maxFlight != 2 {
				t.Errorf("at most %d fetches in flight, want 2 (overlapping, never more)", s.maxFlight)
			}
			if n := len(s.all); n < 2000/54 || n > 2000/25 {
				t.Errorf("%d fetches in 2 s of 54 ms tokens", n)
			}
		})
	}
}

// Tokens that outlive a fetch by more than the lead are fetched one at a
// time, with no timer.
func TestNoOverlapWhenATokenOutlivesTheLead(t *testing.T) {
	s := newSim(t, ms(200), func(int64) time.Duration { return ms(50) })
	s.run(2*time.Second, time.Millisecond)
	if s.late != 0 || s.maxFlight != 1 || s.timers.made != 0 {
		t.Errorf("%d late calls, %d fetches in flight at most, %d timers; want 0, 1, 0", s.late, s.maxFlight, s.timers.made)
	}
}

// Long-lived tokens: one fetch per lifetime, at the usual refresh point, and
// no timer.
func TestLongLivedTokensAreFetchedOncePerLifetime(t *testing.T) {
	s := newSim(t, time.Hour, func(int64) time.Duration { return 2 * time.Second })
	s.run(4*time.Hour, time.Second)
	if s.late != 0 || s.maxFlight != 1 || s.timers.made != 0 {
		t.Fatalf("%d late calls, %d fetches in flight at most, %d timers; want 0, 1, 0", s.late, s.maxFlight, s.timers.made)
	}
	usual := (time.Hour - 30*time.Second) * 3 / 4
	for i, f := range s.all[1:] {
		if since := f.at.Sub(s.all[i].done); since < usual || since > usual+time.Second {
			t.Errorf("fetch %d started %v after the token before it landed, want the first call after %v", f.n, since, usual)
		}
	}
	if n := len(s.all); n != 6 {
		t.Errorf("%d fetches in 4 h, want 6", n)
	}
}

// Once no caller asks for the token, the overlap stops after at most two
// more fetches, and no timer is left.
func TestOverlapStopsWithoutCallers(t *testing.T) {
	s := newSim(t, ms(60), func(int64) time.Duration { return ms(50) })
	s.calling = func(at time.Duration) bool { return at < 500*time.Millisecond }
	s.run(2*time.Second, time.Millisecond)
	if n := s.startedAfter(s.lastCall); n > 2 {
		t.Errorf("%d fetches started after the last call, want at most 2", n)
	}
	if len(s.flight) != 0 || s.timers.armed() != 0 {
		t.Errorf("%d fetches in flight and %d timers armed 1.5 s after the last call, want none", len(s.flight), s.timers.armed())
	}
	before := len(s.all)
	s.calling, s.maxFlight = func(time.Duration) bool { return true }, 0
	s.run(500*time.Millisecond, time.Millisecond)
	if s.maxFlight != 2 || len(s.all)-before < 500/54 {
		t.Errorf("callers back: %d fetches in 500 ms, want the overlap back", len(s.all)-before)
	}
}

// After a failure no fetch starts before its backoff has run, overlapping
// or not.
func TestOverlapWaitsOutBackoff(t *testing.T) {
	s := newSim(t, ms(60), func(int64) time.Duration { return ms(50) }, WithBackoff(time.Second, time.Minute))
	boom := errors.New("upstream down")
	s.fail = func(n int64) error {
		if n >= 10 {
			return boom
		}
		return nil
	}
	s.run(3*time.Second, time.Millisecond)
	var failed time.Time
	for _, f := range s.all {
		if f.n >= 10 && !f.done.IsZero() {
			failed = f.done
			break
		}
	}
	if failed.IsZero() {
		t.Fatal("no fetch failed")
	}
	for _, f := range s.all {
		if f.at.After(failed) && f.at.Before(failed.Add(time.Second)) {
			t.Errorf("fetch %d started %v after the first failure, within its 1 s backoff", f.n, f.at.Sub(failed))
		}
	}
	if s.startedAfter(failed) == 0 {
		t.Error("no retry after the backoff")
	}
}

// Close with two fetches in flight and a timer armed stops the timer,
// cancels both fetches and returns.
func TestCloseStopsOverlappingFetches(t *testing.T) {
	s := newSim(t, ms(60), func(int64) time.Duration { return ms(50) })
	for step := 0; len(s.flight) < 2; step++ {
		if step == 200 {
			t.Fatal("no two fetches in flight in 200 ms")
		}
		s.run(time.Millisecond, time.Millisecond)
	}
	if s.timers.armed() != 1 {
		t.Fatalf("%d timers armed, want 1", s.timers.armed())
	}
	done := make(chan struct{})
	go func() { s.r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if s.timers.armed() != 0 {
		t.Error("Close left the timer armed")
	}
	for range 2 {
		if e := s.outcome(); e.Kind != RefreshFailed || !errors.Is(e.Err, ErrClosed) {
			t.Errorf("fetch in flight at Close: %v %v, want failed with ErrClosed", e.Kind, e.Err)
		}
	}
}

// Of two fetches in flight, a caller with no token gets the first to end;
// a fetch that ends after a later one keeps the later one's token if it
// expires later, and says so.
func TestOverlappingFetchesEndingOutOfOrder(t *testing.T) {
	clk := clocktest.New(t0)
	release := map[int64]chan time.Duration{1: make(chan time.Duration), 2: make(chan time.Duration)}
	src := &source{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		life := <-release[n]
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: clk.Now().Add(life)}, nil
	}}
	ch, obs := events()
	r := refreshing(t, src, WithClock(clk.Now), obs)
	defer r.Close()
	r.mu.Lock()
	r.start()
	r.start()
	r.mu.Unlock()
	got := make(chan *oauth2.Token)
	go func() {
		tok, _ := r.Token()
		got <- tok
	}()
	release[2] <- 2 * time.Hour
	if tok := <-got; tok == nil || tok.AccessToken != "tok-2" {
		t.Fatalf("the waiting caller got %v, want tok-2 from the first fetch to end", tok)
	}
	release[1] <- time.Hour
	if e := next(t, ch, RefreshSucceeded); e.Generation != 1 {
		t.Fatalf("first to end: generation %d, want 1", e.Generation)
	}
	if e := next(t, ch, RefreshSucceeded); e.Generation != 1 || !e.Expiry.After(t0.Add(time.Hour)) {
		t.Fatalf("second to end reports generation %d, served until %v; want tok-2's", e.Generation, e.Expiry)
	}
	if tok := mustToken(t, r); tok != "tok-2" || r.generation() != 1 {
		t.Fatalf("served %q, generation %d; want tok-2, 1", tok, r.generation())
	}
}

// The lead is the longest recent fetch and a margin for their spread, of
// at least a quarter of the longest and 5 ms; only the last 8 count.
func TestLeadFollowsRecentFetches(t *testing.T) {
	var f fetchTimes
	if got := f.lead(); got != minMargin {
		t.Errorf("no fetch yet: lead %v, want %v", got, minMargin)
	}
	for _, tc := range []struct {
		took []time.Duration
		want time.Duration
	}{
		{[]time.Duration{ms(1)}, ms(6)},
		{[]time.Duration{ms(50), ms(50)}, ms(62.5)},
		{[]time.Duration{ms(40), ms(60)}, ms(80)},
		{[]time.Duration{time.Second, ms(10), ms(10), ms(10), ms(10), ms(10), ms(10), ms(10), ms(12)}, ms(17)},
	} {
		var f fetchTimes
		for _, d := range tc.took {
			f.add(d)
		}
		if got := f.lead(); got != tc.want {
			t.Errorf("fetches %v: lead %v, want %v", tc.took, got, tc.want)
		}
	}
}
