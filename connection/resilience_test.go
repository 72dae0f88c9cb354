package connection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The tests of this file drive the retry on Unauthenticated and the refresh
// engine through a real TLS gRPC server, with the engine on a fake clock, and
// check what the server saw and how often the token source was asked.

// minted is a token source that counts its fetches and records the tokens it
// handed out; fetch n (1-based) returns next(n).
type minted struct {
	n    atomic.Int64
	next func(n int64) (*oauth2.Token, error)

	mu     sync.Mutex
	issued []string
}

func (m *minted) source() tokensource.Func {
	return func(context.Context) (*oauth2.Token, error) {
		tok, err := m.next(m.n.Add(1))
		if tok != nil {
			m.mu.Lock()
			m.issued = append(m.issued, tok.AccessToken)
			m.mu.Unlock()
		}
		return tok, err
	}
}

func (m *minted) fetches() int64 { return m.n.Load() }

// bearer is the authorization value the server sees for fetch n's token.
func (m *minted) bearer(n int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n < 1 || n > len(m.issued) {
		return fmt.Sprintf("(no token %d was issued)", n)
	}
	return "Bearer " + m.issued[n-1]
}

func (m *minted) issuedBearers() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.issued))
	for i, tok := range m.issued {
		out[i] = "Bearer " + tok
	}
	return out
}

// opaqueTokens issues tok-1, tok-2, … that expire an hour after clk's now,
// stated in Token.Expiry.
func opaqueTokens(clk *clocktest.Clock) func(int64) (*oauth2.Token, error) {
	return func(n int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", n), Expiry: clk.Now().Add(time.Hour)}, nil
	}
}

// jwtTokens issues a distinct JWT per fetch whose exp claim is an hour after
// clk's now; Token.Expiry is left zero, so the engine reads exp.
func jwtTokens(clk *clocktest.Clock) func(int64) (*oauth2.Token, error) {
	return func(n int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: testjwt.Mint(clk.Now().Add(time.Hour), jwt.MapClaims{"jti": fmt.Sprintf("tok-%d", n)})}, nil
	}
}

// engineEvents counts the engine's events.
type engineEvents struct {
	invalidated, failed, succeeded atomic.Int64
}

func (e *engineEvents) observe(ev tokensource.Event) {
	switch ev.Kind {
	case tokensource.Invalidated:
		e.invalidated.Add(1)
	case tokensource.RefreshFailed:
		e.failed.Add(1)
	case tokensource.RefreshSucceeded:
		e.succeeded.Add(1)
	}
}

// dialEngine connects to srv with WithTokenSource over src, the engine on clk
// with no jitter. Close the connection before reading ev: Close waits for the
// engine's fetches, whose goroutines deliver the events.
func dialEngine(t *testing.T, srv *grpccredstest.Server, src oauth2.TokenSource, clk *clocktest.Clock, ev *engineEvents, opts ...tokensource.Option) *Connection {
	t.Helper()
	ro := append([]tokensource.Option{tokensource.WithClock(clk.Now), tokensource.WithJitter(0),
		tokensource.WithObserver(ev.observe)}, opts...)
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src, WithRefreshOptions(ro...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rejectAll(context.Context, metadata.MD) error {
	return status.Error(codes.Unauthenticated, "invalid token: token has invalid audience")
}

// rejectFirst rejects the first call the server sees, whatever it carries, as
// a replica whose JWKS has not loaded yet would, and admits the rest.
func rejectFirst() func(context.Context, metadata.MD) error {
	var seen atomic.Bool
	return func(context.Context, metadata.MD) error {
		if !seen.Swap(true) {
			return status.Error(codes.Unauthenticated, "invalid token: unknown key id (keys not loaded yet)")
		}
		return nil
	}
}

// lastAuth returns the authorization value of the server's latest call.
func lastAuth(t *testing.T, srv *grpccredstest.Server) string {
	t.Helper()
	all := srv.Auth()
	if len(all) == 0 {
		t.Fatal("the server saw no call")
	}
	if a := all[len(all)-1]; len(a) == 1 {
		return a[0]
	}
	t.Fatalf("the last call carried %q, want one authorization value", all[len(all)-1])
	return ""
}

// A server that rejects every token (a wrong audience) costs a few token
// requests, not one per call: 20 sequential calls while the fake clock
// stands still fetch at most 5 tokens and reach the server at most twice
// each. Before the invalidations were rate-limited, each call invalidated the
// token it had just fetched: 21 fetches and 40 RPCs.
func TestAlwaysUnauthenticatedIsRateLimited(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejectAll})
	m := &minted{next: jwtTokens(clk)}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)
	for i := range 20 {
		before := len(srv.Auth())
		err := call(context.Background(), c)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "invalid audience") {
			t.Errorf("call %d: %v, want the server's Unauthenticated", i, err)
		}
		if n := len(srv.Auth()) - before; n < 1 || n > 2 {
			t.Errorf("call %d reached the server %d times, want 1 or 2", i, n)
		}
	}
	c.Close()
	rpcs := srv.Auth()
	t.Logf("20 calls: %d fetches, %d RPCs, %d invalidations", m.fetches(), len(rpcs), ev.invalidated.Load())
	if n := m.fetches(); n > 5 {
		t.Errorf("fetches = %d for 20 rejected calls, want ≤ 5", n)
	}
	if len(rpcs) > 40 {
		t.Errorf("the server saw %d RPCs for 20 calls, want ≤ 40", len(rpcs))
	}
	if n := ev.invalidated.Load(); n < 1 || n > 5 {
		t.Errorf("invalidations = %d, want 1 to 5", n)
	}
	issued := m.issuedBearers()
	for i, a := range rpcs {
		if len(a) != 1 || !slices.Contains(issued, a[0]) {
			t.Fatalf("RPC %d carried %d values, not a token the source issued", i, len(a))
		}
	}
	// The first call was resent, with the replacement of the token it was
	// rejected with.
	if len(rpcs) < 2 || rpcs[0][0] != m.bearer(1) || rpcs[1][0] != m.bearer(2) {
		t.Errorf("the first call was not resent with a new token")
	}
}

// The same with 20 callers making 5 calls each at once: concurrent rejections
// of one generation share one replacement, and the rate limit holds.
func TestAlwaysUnauthenticatedConcurrent(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejectAll})
	m := &minted{next: opaqueTokens(clk)}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for range 20 {
		wg.Go(func() {
			for range 5 {
				if err := call(context.Background(), c); status.Code(err) != codes.Unauthenticated {
					wrong.Add(1)
					t.Log(err)
				}
			}
		})
	}
	wg.Wait()
	c.Close()
	t.Logf("100 calls: %d fetches, %d RPCs, %d invalidations", m.fetches(), len(srv.Auth()), ev.invalidated.Load())
	if n := wrong.Load(); n != 0 {
		t.Errorf("%d calls did not get Unauthenticated", n)
	}
	if n := m.fetches(); n > 5 {
		t.Errorf("fetches = %d for 100 rejected calls, want ≤ 5", n)
	}
	if n := len(srv.Auth()); n < 100 || n > 200 {
		t.Errorf("the server saw %d RPCs for 100 calls, want 100 to 200", n)
	}
}

// The rate limit follows the backoff schedule (1 s, then ×1.6, no jitter):
// a call a second for 60 s of fake time against a server that rejects every
// token invalidates at t = 0, 1, 3, 6, 11, 18, 29 and 46 s, i.e. 9 fetches
// (the first token and 8 replacements) and 68 RPCs, not 61 and 120.
func TestAlwaysUnauthenticatedFollowsTheBackoff(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejectAll})
	m := &minted{next: opaqueTokens(clk)}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)
	var resent []int
	for sec := range 60 {
		before := len(srv.Auth())
		if err := call(context.Background(), c); status.Code(err) != codes.Unauthenticated {
			t.Errorf("t=%ds: %v, want Unauthenticated", sec, err)
		}
		if len(srv.Auth())-before == 2 {
			resent = append(resent, sec)
		}
		clk.Advance(time.Second)
	}
	c.Close()
	t.Logf("resent at t=%v s; %d fetches, %d RPCs", resent, m.fetches(), len(srv.Auth()))
	if want := []int{0, 1, 3, 6, 11, 18, 29, 46}; !slices.Equal(resent, want) {
		t.Errorf("calls resent at t=%v s, want %v", resent, want)
	}
	if n := m.fetches(); n != 9 {
		t.Errorf("fetches = %d, want 9", n)
	}
	if n := len(srv.Auth()); n != 68 {
		t.Errorf("RPCs = %d, want 68", n)
	}
}

// A source that returns a token no header can carry ("tok\n") has failed, as
// far as the engine is concerned: callers get Unavailable, the server sees
// nothing, nothing is invalidated or resent, and the source is asked again
// only on the backoff schedule (not at all while the fake clock stands still).
func TestMalformedTokenIsAFailedFetch(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	m := &minted{next: func(int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "tok\n", Expiry: clk.Now().Add(time.Hour)}, nil
	}}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)
	for i := range 20 {
		err := call(context.Background(), c)
		if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "unusable access token") {
			t.Errorf("call %d: %v, want Unavailable naming an unusable token", i, err)
		}
	}
	c.Close()
	if n := m.fetches(); n < 1 || n > 5 {
		t.Errorf("fetches = %d for 20 calls, want 1 to 5", n)
	}
	if n := len(srv.Auth()); n != 0 {
		t.Errorf("the server saw %d RPCs, want 0", n)
	}
	if n := ev.invalidated.Load(); n != 0 {
		t.Errorf("invalidations = %d, want 0", n)
	}
	if n := ev.failed.Load(); n != m.fetches() {
		t.Errorf("failed refreshes = %d, want one per fetch (%d)", n, m.fetches())
	}
	t.Logf("20 calls: %d fetches", m.fetches())
}

// One spurious rejection, then an identity-provider outage: the rejected
// token is still valid, so it stays in service. The rejected call gets the
// server's Unauthenticated (no newer token can be had, so it is not resent),
// and the next calls succeed with the old token instead of failing with the
// provider's Unavailable; once that token expires, they fail. Before
// Invalidate demoted tokens it discarded them: every call after the first
// would have failed.
func TestSpuriousRejectionKeepsTheOldToken(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejectFirst()})
	m := &minted{next: func(n int64) (*oauth2.Token, error) {
		if n == 1 {
			return opaqueTokens(clk)(n)
		}
		return nil, status.Error(codes.Unavailable, "identity provider down")
	}}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)

	err := call(context.Background(), c)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "keys not loaded") {
		t.Fatalf("first call: %v, want the server's Unauthenticated", err)
	}
	if got := srv.Auth(); len(got) != 1 || got[0][0] != "Bearer tok-1" {
		t.Fatalf("the server saw %q for the first call, want tok-1 once (no resend without a newer token)", got)
	}
	if n := m.fetches(); n != 2 {
		t.Fatalf("fetches after the rejection = %d, want 2 (the first token, one failed replacement)", n)
	}
	for i := range 10 {
		if err := call(context.Background(), c); err != nil {
			t.Fatalf("call %d after the spurious rejection: %v", i, err)
		}
		if a := lastAuth(t, srv); a != "Bearer tok-1" {
			t.Fatalf("call %d carried %q, want the old token", i, a)
		}
	}
	if n := m.fetches(); n != 2 {
		t.Errorf("fetches = %d while the clock stood still, want 2", n)
	}

	// Half an hour later, background refreshes try and fail; the old token
	// is still served.
	clk.Advance(30 * time.Minute)
	for i := range 5 {
		if err := call(context.Background(), c); err != nil {
			t.Fatalf("call %d 30 min later: %v", i, err)
		}
		if a := lastAuth(t, srv); a != "Bearer tok-1" {
			t.Fatalf("call %d 30 min later carried %q", i, a)
		}
	}
	// Past its expiry the demoted token is not served.
	clk.Advance(30 * time.Minute)
	before := len(srv.Auth())
	if err := call(context.Background(), c); status.Code(err) != codes.Unavailable {
		t.Fatalf("after expiry: %v, want Unavailable (the provider is down)", err)
	}
	if n := len(srv.Auth()) - before; n != 0 {
		t.Fatalf("after expiry the server saw %d RPCs, want 0", n)
	}
	c.Close()
	if n := ev.invalidated.Load(); n != 1 {
		t.Errorf("invalidations = %d, want 1", n)
	}
	if n := ev.succeeded.Load(); n != 1 {
		t.Errorf("successful fetches = %d, want 1", n)
	}
}

// A one-off rejection with a healthy source: the call is resent with a new
// token and succeeds; two fetches in all, and later calls keep the new token.
func TestSpuriousRejectionIsRetriedWithANewToken(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejectFirst()})
	m := &minted{next: jwtTokens(clk)}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)
	if err := call(context.Background(), c); err != nil {
		t.Fatalf("call with one spurious rejection: %v", err)
	}
	got := srv.Auth()
	if len(got) != 2 || got[0][0] != m.bearer(1) || got[1][0] != m.bearer(2) || got[0][0] == got[1][0] {
		t.Fatalf("the server saw %d RPCs, want token 1 then a different token 2", len(got))
	}
	if n := m.fetches(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	for i := range 5 {
		if err := call(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if a := lastAuth(t, srv); a != m.bearer(2) {
			t.Fatalf("call %d did not carry token 2", i)
		}
	}
	c.Close()
	if m.fetches() != 2 || ev.invalidated.Load() != 1 {
		t.Fatalf("fetches = %d, invalidations = %d, want 2 and 1", m.fetches(), ev.invalidated.Load())
	}
}

// A call that carries its own token (creds.WithToken) and is rejected is
// neither resent nor allowed to touch the engine's token; neither is one whose
// own token is refused before it is sent.
func TestRejectedPerCallTokenInvalidatesNothing(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: func(_ context.Context, md metadata.MD) error {
		if a := md.Get("authorization"); len(a) == 1 && a[0] == "Bearer own" {
			return status.Error(codes.Unauthenticated, "token revoked")
		}
		return nil
	}})
	m := &minted{next: opaqueTokens(clk)}
	ev := &engineEvents{}
	c := dialEngine(t, srv, m.source(), clk, ev)
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	before := len(srv.Auth())
	if err := call(c.WithToken(context.Background(), "own"), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("rejected per-call token: %v, want Unauthenticated", err)
	}
	if got := srv.Auth()[before:]; len(got) != 1 || got[0][0] != "Bearer own" {
		t.Fatalf("the server saw %q, want the per-call token once", got)
	}
	before = len(srv.Auth())
	if err := call(c.WithToken(context.Background(), "own\n"), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unusable per-call token: %v, want Unauthenticated", err)
	}
	if n := len(srv.Auth()) - before; n != 0 {
		t.Fatalf("an unusable per-call token reached the server (%d RPCs)", n)
	}
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if a := lastAuth(t, srv); a != "Bearer tok-1" {
		t.Fatalf("the next call carried %q, want the engine's first token", a)
	}
	c.Close()
	if n := m.fetches(); n != 1 {
		t.Errorf("fetches = %d, want 1 (none caused by the per-call token)", n)
	}
	if n := ev.invalidated.Load(); n != 0 {
		t.Errorf("invalidations = %d, want 0", n)
	}
}

// WithTokenSource given an *External uses it as is: calls carry its token,
// UpdateAccessToken (or the External's own Update) swaps it for the very next
// call, a bad update keeps the old token, and a rejection is not resent.
func TestTokenSourceExternal(t *testing.T) {
	var reject atomic.Value // the authorization value to reject
	reject.Store("")
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: func(_ context.Context, md metadata.MD) error {
		if a := md.Get("authorization"); len(a) == 1 && a[0] == reject.Load().(string) {
			return status.Error(codes.Unauthenticated, "token revoked")
		}
		return nil
	}})
	ext, err := tokensource.NewExternal("ext-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, ext)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	step := func(name, want string) {
		t.Helper()
		if err := call(context.Background(), c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a := lastAuth(t, srv); a != want {
			t.Fatalf("%s: the server saw %q, want %q", name, a, want)
		}
	}
	step("first call", "Bearer ext-1")
	step("second call", "Bearer ext-1")
	if err := c.UpdateAccessToken("ext-2"); err != nil {
		t.Fatalf("UpdateAccessToken on a WithTokenSource(External) connection: %v", err)
	}
	step("after UpdateAccessToken", "Bearer ext-2")
	if err := ext.Update("ext-3"); err != nil {
		t.Fatal(err)
	}
	step("after External.Update", "Bearer ext-3")
	if err := c.UpdateAccessToken("ext 4"); err == nil {
		t.Fatal("a token with a space was accepted")
	}
	step("after a refused update", "Bearer ext-3")
	for i := 5; i < 25; i++ { // swap and call in turn: no cache may serve a stale header
		tok := fmt.Sprintf("ext-%d", i)
		if err := c.UpdateAccessToken(tok); err != nil {
			t.Fatal(err)
		}
		step("swap "+tok, "Bearer "+tok)
	}
	reject.Store("Bearer ext-24")
	before := len(srv.Auth())
	if err := call(context.Background(), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("rejected external token: %v", err)
	}
	if n := len(srv.Auth()) - before; n != 1 {
		t.Fatalf("a rejected external token reached the server %d times, want 1 (no resend)", n)
	}
	if g, _ := engine.Of(ext); g.Generation() != 23 {
		t.Errorf("External generation = %d, want 23", g.Generation())
	}
}

// A connection owns the engine it is given: it uses it as is and stops it on
// Close. Engine options cannot apply to an engine already built, so with them
// the connection refuses, names them, and still stops the engine it was given.
func TestTokenSourceGivenAnEngine(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	eng, err := tokensource.Refreshing(&countingSource{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, eng)
	if err != nil {
		t.Fatal(err)
	}
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := eng.Token(); !errors.Is(err, tokensource.ErrClosed) {
		t.Fatalf("the given engine after Close: %v, want ErrClosed", err)
	}
	for _, tc := range []struct {
		opt  SourceOption
		name string
	}{
		{WithRefreshOptions(tokensource.WithLeeway(time.Second)), "WithRefreshOptions"},
		{WithLogger(slog.New(slog.DiscardHandler)), "WithLogger"},
	} {
		eng, err := tokensource.Refreshing(&countingSource{})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := WithTokenSource(srv.Addr, srv.CA.PEM, eng, tc.opt); err == nil || !strings.Contains(err.Error(), tc.name) {
			c.Close()
			t.Fatalf("%s with a built engine: %v, want an error naming it", tc.name, err)
		}
		if _, err := eng.Token(); !errors.Is(err, tokensource.ErrClosed) {
			t.Fatalf("%s refused: the engine given was left running (%v)", tc.name, err)
		}
	}
}

// An External's expiry is judged on its clock: after a suspend past the
// token's exp, calls fail locally with Unauthenticated (nothing reaches the
// server, nothing is resent) until the application supplies a new token.
func TestTokenSourceExternalExpiresAcrossSuspend(t *testing.T) {
	clk := clocktest.New(time.Now())
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	first := testjwt.Mint(clk.Now().Add(time.Hour), jwt.MapClaims{"jti": "1"})
	ext, err := engine.NewExternalWithClock(first, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, ext)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	clk.Suspend(2 * time.Hour)
	err = call(context.Background(), c)
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "expired") {
		t.Fatalf("after the suspend: %v, want Unauthenticated naming the expiry", err)
	}
	if n := len(srv.Auth()); n != 1 {
		t.Fatalf("the server saw %d RPCs, want 1 (the expired token is not sent)", n)
	}
	second := testjwt.Mint(clk.Now().Add(time.Hour), jwt.MapClaims{"jti": "2"})
	if err := c.UpdateAccessToken(second); err != nil {
		t.Fatal(err)
	}
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if a := lastAuth(t, srv); a != "Bearer "+second {
		t.Fatal("after the update the call did not carry the new token")
	}
}

// A machine that sleeps past its token's expiry (the wall clock jumps, the
// monotonic clock does not) must not send the expired token: the next call
// fetches a new one. Expiry comes from Token.Expiry or from the JWT's exp;
// a suspend just past the usable lifetime (1 h less the 30 s leeway) counts
// too.
func TestSuspendFetchesANewToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tokens  func(*clocktest.Clock) func(int64) (*oauth2.Token, error)
		suspend time.Duration
	}{
		{"Token.Expiry, 2 h", opaqueTokens, 2 * time.Hour},
		{"JWT exp, 2 h", jwtTokens, 2 * time.Hour},
		{"Token.Expiry, past the leeway", opaqueTokens, time.Hour - 15*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.New(time.Now())
			srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
			m := &minted{next: tc.tokens(clk)}
			ev := &engineEvents{}
			c := dialEngine(t, srv, m.source(), clk, ev)
			for range 2 {
				if err := call(context.Background(), c); err != nil {
					t.Fatal(err)
				}
				if a := lastAuth(t, srv); a != m.bearer(1) {
					t.Fatal("before the suspend a call did not carry token 1")
				}
			}
			clk.Suspend(tc.suspend)
			if err := call(context.Background(), c); err != nil {
				t.Fatalf("after the suspend: %v", err)
			}
			if a := lastAuth(t, srv); a == m.bearer(1) || a != m.bearer(2) {
				t.Fatal("after the suspend the call did not carry a new token")
			}
			c.Close()
			if n := m.fetches(); n != 2 {
				t.Fatalf("fetches = %d, want 2", n)
			}
			if n := ev.invalidated.Load(); n != 0 {
				t.Fatalf("invalidations = %d, want 0", n)
			}
		})
	}
}
