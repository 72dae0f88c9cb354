package suite

import (
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fault is one way the identity provider can fail.
type fault struct {
	name     string
	apply    func(s *stack)
	heal     func(s *stack)
	code     codes.Code // what a call sees after expiry, once the fetch has failed
	says     string     // what its message names
	hangs    bool       // the fetch hangs until the engine's fetch timeout
	attempts int64      // fetch attempts in 10 s of fake time after expiry (0: not asserted)
	http     bool       // the attempts reach the authority's token endpoint
}

func mode(m grpccredstest.Mode) func(*stack) { return func(s *stack) { s.idp.SetMode(m) } }

func faults() []fault {
	healthy := mode(grpccredstest.Healthy)
	return []fault{
		{name: "unreachable", apply: func(s *stack) { s.idp.SetMode(grpccredstest.Down) }, heal: func(s *stack) { s.idp.SetMode(grpccredstest.Healthy) },
			code: codes.Unavailable, says: "unreachable", attempts: 5},
		{name: "black hole", apply: mode(grpccredstest.BlackHole), heal: healthy,
			code: codes.Unavailable, says: "timed out", hangs: true},
		{name: "10 s slow", apply: mode(grpccredstest.Slow), heal: healthy,
			code: codes.Unavailable, says: "timed out", hangs: true},
		{name: "500", apply: mode(grpccredstest.Fail500), heal: healthy,
			code: codes.Unavailable, says: "HTTP 500", attempts: 5, http: true},
		{name: "429 with Retry-After: 7", apply: mode(grpccredstest.Fail429), heal: healthy,
			code: codes.Unavailable, says: "HTTP 429", attempts: 2, http: true},
		{name: "garbage JSON", apply: mode(grpccredstest.Garbage), heal: healthy,
			code: codes.Unavailable, says: "token source failed", attempts: 5, http: true},
		{name: "invalid_client 401", apply: mode(grpccredstest.InvalidClient), heal: healthy,
			code: codes.Unauthenticated, says: "invalid_client", attempts: 5, http: true},
		{name: "TLS certificate not trusted", apply: func(s *stack) { s.trusted.Store(false) }, heal: func(s *stack) { s.trusted.Store(true) },
			code: codes.Unavailable, says: "certificate signed by unknown authority", attempts: 5},
	}
}

// TestFaultMatrix runs each fault twice, through the whole stack: while the
// cached token is valid (nothing may fail), and after it expired (calls fail
// within their deadline with the right code, retries follow the backoff, and
// the stack recovers by itself once the provider heals).
func TestFaultMatrix(t *testing.T) {
	for _, f := range faults() {
		t.Run(f.name+"/token valid", func(t *testing.T) { whileValid(t, f) })
		t.Run(f.name+"/token expired", func(t *testing.T) { afterExpiry(t, f) })
	}
}

func whileValid(t *testing.T, f fault) {
	s := newStack(t)
	if err := s.call(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	f.apply(s)
	s.clk.Advance(50 * time.Minute) // stale: background refreshes start and fail
	for i := range 20 {
		start := time.Now()
		if err := s.call(5 * time.Second); err != nil {
			t.Fatalf("call %d while the token is valid: %v", i, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Logf("call %d took %v", i, d) // noise is possible on 2 shared cores; a wait for the fetch is not
		}
		s.clk.Advance(time.Second)
	}
	f.heal(s)
	s.settle(t)
	s.clk.Advance(3 * time.Minute) // past the longest backoff
	s.call(5 * time.Second)        // starts a background refresh, whose goroutine may not have begun yet
	for range 400 {                // 2 s at most
		if generation(s.engine) >= 2 {
			return
		}
		s.settle(t)
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no refresh succeeded after the provider healed (generation %d)", generation(s.engine))
}

func afterExpiry(t *testing.T, f fault) {
	s := newStack(t)
	if err := s.call(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	f.apply(s)
	s.clk.Advance(61 * time.Minute) // expired
	if f.hangs {
		err := s.call(200 * time.Millisecond) // shorter than the fetch timeout
		assertCode(t, err, codes.DeadlineExceeded, "waiting for a token")
		s.settle(t)
	}
	before, requests := s.attempts.Load(), s.idp.TokenRequests()
	err := s.call(5 * time.Second)
	s.settle(t)
	assertCode(t, err, f.code, f.says)
	if f.attempts > 0 {
		for range 100 { // 10 s of fake time, a call every 100 ms
			s.call(5 * time.Second)
			s.settle(t)
			s.clk.Advance(100 * time.Millisecond)
		}
		if n := s.attempts.Load() - before; n != f.attempts {
			t.Errorf("fetch attempts in 10 s = %d, want %d (backoff 1 s ×1.6, or Retry-After)", n, f.attempts)
		}
		if n := s.idp.TokenRequests() - requests; f.http && n != f.attempts {
			t.Errorf("token requests at the authority in 10 s = %d, want %d", n, f.attempts)
		}
	}
	f.heal(s)
	s.clk.Advance(3 * time.Minute)
	if err := s.call(5 * time.Second); err != nil {
		t.Fatalf("no recovery after the provider healed: %v", err)
	}
}

func assertCode(t *testing.T, err error, code codes.Code, says string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code || !strings.Contains(st.Message(), says) {
		t.Fatalf("got %v %q, want %v naming %q", st.Code(), st.Message(), code, says)
	}
	if strings.Contains(st.Message(), secret) {
		t.Fatalf("the secret leaked: %q", st.Message())
	}
}
