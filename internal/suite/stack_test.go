package suite

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/clocktest"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/enginetest"
	"github.com/grpccreds/grpccreds/tokensource"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	clientID = "suite-app"
	secret   = "Suite-S3cret.value~never-printed"
)

// stack is the whole client side against the test authority and a real gRPC
// server: x/oauth2 client credentials, the engine on a fake clock,
// creds.Bearer inside a Connection.
type stack struct {
	idp      *grpccredstest.IdentityProvider
	srv      *grpccredstest.Server
	clk      *clocktest.Clock
	engine   *tokensource.Refresher
	conn     *connection.Connection
	attempts atomic.Int64 // fetches the engine made
	trusted  atomic.Bool  // whether the engine's HTTP client trusts the authority
	started  atomic.Int64 // refresh events seen by the observer
	finished atomic.Int64
}

func newStack(t *testing.T, opts ...tokensource.Option) *stack {
	t.Helper()
	idp := grpccredstest.NewIdentityProvider(t, tenant, "api://grpccreds")
	idp.Register(clientID, grpccredstest.Client{Secret: secret, Identity: grpccredstest.Identity{Name: "svc", OID: "o-1"}})
	s := &stack{idp: idp, srv: grpccredstest.NewServer(t, grpccredstest.ServerConfig{NoRecord: true}), clk: clocktest.New(time.Now())}
	s.trusted.Store(true)
	good, bad := idp.HTTPClient(), &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		good.CloseIdleConnections()
		bad.CloseIdleConnections()
	})
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: idp.TokenURL,
		AuthStyle: oauth2.AuthStyleInParams}
	src := tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		s.attempts.Add(1)
		hc := bad
		if s.trusted.Load() {
			hc = good
		}
		tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
		if err != nil {
			return nil, err
		}
		// The authority states expiry on the wall clock; carry it over to the fake one.
		tok.Expiry = s.clk.Now().Add(time.Until(tok.Expiry))
		return tok, nil
	})
	// A fetch starts with RefreshStarted and ends with exactly one of
	// succeeded, failed or unchanged; Invalidated and SourceCachesTokens are
	// no outcome and must not be counted as one, or settle would wait for
	// a fetch that never comes. An observer passed in opts replaces this one
	// (options set, not add), which makes settle return at once.
	observe := func(e tokensource.Event) {
		switch e.Kind {
		case tokensource.RefreshStarted:
			s.started.Add(1)
		case tokensource.RefreshSucceeded, tokensource.RefreshFailed, tokensource.RefreshUnchanged:
			s.finished.Add(1)
		}
	}
	base := []tokensource.Option{tokensource.WithClock(s.clk.Now), tokensource.WithJitter(0),
		tokensource.WithFetchTimeout(500 * time.Millisecond), tokensource.WithObserver(observe)}
	s.engine = enginetest.Engine(t, src, append(base, opts...)...)
	var err error
	s.conn, err = connection.WithTokenSource(s.srv.Addr, s.srv.CA.PEM, s.engine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.conn.Close(); s.engine.Close() })
	return s
}

// call makes one RPC with its own deadline.
func (s *stack) call(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return grpccredstest.HealthCheck(ctx, s.conn)
}

// settle waits (bounded, in real time) until no fetch is in flight, so the
// next step starts from a known state.
func (s *stack) settle(t *testing.T) {
	t.Helper()
	for range 400 {
		if !s.inFlight() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("a fetch stayed in flight for 2 s")
}

// inFlight reports a started fetch without an outcome yet.
func (s *stack) inFlight() bool { return s.started.Load() != s.finished.Load() }

// generation is the engine's current token generation.
func generation(r *tokensource.Refresher) uint64 {
	g, _ := engine.Of(r)
	return g.Generation()
}
