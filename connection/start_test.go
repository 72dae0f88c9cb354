package connection

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// fromIdP is a client-credentials source that asks idp for every token, one
// request per fetch.
func fromIdP(t *testing.T, idp *grpccredstest.IdentityProvider) tokensource.Func {
	idp.Register("app", grpccredstest.Client{Secret: "s3cret"})
	hc := idp.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	cfg := &clientcredentials.Config{ClientID: "app", ClientSecret: "s3cret", TokenURL: idp.TokenURL, AuthStyle: oauth2.AuthStyleInParams, Scopes: []string{"api://grpccreds/.default"}}
	return tokensource.ClientCredentials(context.WithValue(context.Background(), oauth2.HTTPClient, hc), cfg)
}

// eventually fails the test unless cond holds within 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 10s: %s", what)
		}
	}
}

type sideBySide struct {
	srv *grpccredstest.Server
	idp *grpccredstest.IdentityProvider
	c   *Connection
}

// open makes a connection with its own server and identity provider.
func open(t *testing.T, opts ...SourceOption) sideBySide {
	t.Helper()
	s := sideBySide{srv: grpccredstest.NewServer(t, grpccredstest.ServerConfig{}), idp: grpccredstest.NewIdentityProvider(t, "contoso", "api://grpccreds")}
	c, err := WithTokenSource(s.srv.Addr, s.srv.CA.PEM, fromIdP(t, s.idp), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s.c = c
	return s
}

func (s sideBySide) started() bool {
	return s.idp.TokenRequests() == 1 && s.srv.Conns() == 1 && s.c.cc.GetState() == connectivity.Ready
}

// WithTokenSource starts the connection and the first fetch before the first
// call; the first call then reuses both. WithLazyStart, made at the same
// time, has done neither by then, and does both on its first call.
func TestStartsBeforeTheFirstCall(t *testing.T) {
	lazy := open(t, WithLazyStart())
	eager := open(t)
	eventually(t, "the token fetched and the connection ready before any call", eager.started)
	if n, conns, st := lazy.idp.TokenRequests(), lazy.srv.Conns(), lazy.c.cc.GetState(); n != 0 || conns != 0 || st != connectivity.Idle {
		t.Fatalf("WithLazyStart: %d token requests, %d connections, state %v before the first call; want 0, 0, Idle", n, conns, st)
	}
	for name, s := range map[string]sideBySide{"eager": eager, "lazy": lazy} {
		if err := call(context.Background(), s.c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n, conns := s.idp.TokenRequests(), s.srv.Conns(); n != 1 || conns != 1 {
			t.Fatalf("%s: after the first call %d token requests and %d connections, want 1 and 1", name, n, conns)
		}
	}
}

// WithExternalAccessToken starts connecting before the first call too, and
// stays idle with WithLazyStart.
func TestExternalStartsConnecting(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	lazySrv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	lazy := mustExternal(t, lazySrv, "tok", WithLazyStart())
	c := mustExternal(t, srv, "tok")
	eventually(t, "the connection ready before any call", func() bool { return c.cc.GetState() == connectivity.Ready })
	if conns, st := lazySrv.Conns(), lazy.cc.GetState(); conns != 0 || st != connectivity.Idle {
		t.Fatalf("WithLazyStart: %d connections, state %v; want 0, Idle", conns, st)
	}
	if err := call(context.Background(), c); err != nil || srv.Conns() != 1 {
		t.Fatalf("first call: %v over %d connections, want nil over 1", err, srv.Conns())
	}
}

// signingIn is a source that would sign a person in: it declares a fetch
// timeout of minutes.
type signingIn struct{ countingSource }

func (*signingIn) EngineFetchTimeout() time.Duration { return 5 * time.Minute }

// A source that signs a person in is not asked before the first call; the
// connection itself is still started.
func TestInteractiveSourceWaitsForTheFirstCall(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	src := &signingIn{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, "the connection ready before any call", func() bool { return c.cc.GetState() == connectivity.Ready })
	if n := src.n.Load(); n != 0 {
		t.Fatalf("an interactive source was asked %d times before the first call", n)
	}
	if err := call(context.Background(), c); err != nil || src.n.Load() != 1 {
		t.Fatalf("first call: %v after %d fetches, want nil after 1", err, src.n.Load())
	}
}

// failedFirst opens a connection whose first fetch fails with mode, with the
// given backoff, and waits for that failure.
func failedFirst(t *testing.T, mode grpccredstest.Mode, backoff time.Duration) sideBySide {
	t.Helper()
	failed := make(chan struct{}, 1)
	observe := tokensource.WithObserver(func(e tokensource.Event) {
		if e.Kind == tokensource.RefreshFailed {
			select {
			case failed <- struct{}{}:
			default:
			}
		}
	})
	s := sideBySide{srv: grpccredstest.NewServer(t, grpccredstest.ServerConfig{}), idp: grpccredstest.NewIdentityProvider(t, "contoso", "api://grpccreds")}
	s.idp.SetMode(mode)
	c, err := WithTokenSource(s.srv.Addr, s.srv.CA.PEM, fromIdP(t, s.idp),
		WithRefreshOptions(observe, tokensource.WithBackoff(backoff, backoff), tokensource.WithJitter(0)))
	if err != nil {
		t.Fatalf("construction failed because of the first fetch: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	s.c = c
	<-failed
	return s
}

// A failed first fetch does not fail construction; the first call fails at
// once with the fetch's code, without waiting for the backoff and without a
// second token request inside it.
func TestFailedFirstFetchFailsTheFirstCall(t *testing.T) {
	for mode, want := range map[grpccredstest.Mode]codes.Code{
		grpccredstest.InvalidClient: codes.Unauthenticated,
		grpccredstest.Fail500:       codes.Unavailable,
	} {
		s := failedFirst(t, mode, time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := call(ctx, s.c)
		cancel()
		if status.Code(err) != want {
			t.Fatalf("mode %d: first call: %v, want %v", mode, err, want)
		}
		if n := s.idp.TokenRequests(); n != 1 {
			t.Fatalf("mode %d: %d token requests, want 1", mode, n)
		}
	}
}

// After a failed first fetch, the first call after the backoff asks the
// provider again and succeeds once it is healthy.
func TestFailedFirstFetchIsRetriedAfterTheBackoff(t *testing.T) {
	s := failedFirst(t, grpccredstest.Fail500, 50*time.Millisecond)
	s.idp.SetMode(grpccredstest.Healthy)
	eventually(t, "a call succeeds after the backoff", func() bool { return call(context.Background(), s.c) == nil })
	if n := s.idp.TokenRequests(); n != 2 {
		t.Fatalf("%d token requests, want 2 (the failed first fetch and its retry)", n)
	}
}

// Close stops a first fetch still in flight: the source's context ends, and
// nothing is left running (goleak, in TestMain).
func TestCloseStopsTheFirstFetch(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	asked, ended := make(chan struct{}), make(chan error, 1)
	src := tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		close(asked)
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	})
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src)
	if err != nil {
		t.Fatal(err)
	}
	<-asked
	c.Close()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the fetch ended with %v, want context.Canceled", err)
	}
}

// quick declares a fetch timeout too short for a person to sign in, and
// takes a context.
type quick struct{ countingSource }

func (*quick) EngineFetchTimeout() time.Duration { return 10 * time.Second }

func (q *quick) TokenContext(context.Context) (*oauth2.Token, error) { return q.Token() }

// A source that takes a context and declares a short fetch timeout is asked
// early; a ready-made engine, whose source the connection cannot see, is
// not, and nor is a plain oauth2.TokenSource, whose fetch nothing could stop
// if the connection were closed at once.
func TestWhichSourcesAreAskedEarly(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	short := &quick{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, short)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	shared := &countingSource{}
	eng, err := tokensource.Refreshing(shared)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := WithTokenSource(srv.Addr, srv.CA.PEM, eng)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	eventually(t, "the short-timeout source asked before any call", func() bool { return short.n.Load() == 1 })
	eventually(t, "both connections ready", func() bool {
		return c.cc.GetState() == connectivity.Ready && c2.cc.GetState() == connectivity.Ready
	})
	if n := shared.n.Load(); n != 0 {
		t.Fatalf("a ready-made engine was asked %d times before the first call", n)
	}
	plain := &countingSource{}
	c3, err := WithTokenSource(srv.Addr, srv.CA.PEM, plain)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	eventually(t, "the plain source's connection ready", func() bool { return c3.cc.GetState() == connectivity.Ready })
	if n := plain.n.Load(); n != 0 {
		t.Fatalf("a plain oauth2.TokenSource was asked %d times before the first call", n)
	}
	if err := call(context.Background(), c2); err != nil || shared.n.Load() != 1 {
		t.Fatalf("first call on the ready-made engine: %v after %d fetches, want nil after 1", err, shared.n.Load())
	}
}

// A server that is not up yet when the Connection is made: its early
// attempt to connect fails and gRPC backs off, but the first call, made
// once the server is up, gets an attempt of its own and succeeds, as on a
// lazy connection.
func TestFirstCallAfterTheServerComesUp(t *testing.T) {
	ca := grpccredstest.NewCA(t, "late")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens yet
	c, err := WithExternalAccessToken(addr, ca.PEM, "opaque-token-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, "the early attempt failed", func() bool { return c.cc.GetState() == connectivity.TransientFailure })
	lis, err = net.Listen("tcp", addr) // the server comes up
	if err != nil {
		t.Fatalf("listening on %s again: %v", addr, err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{ca.Server().TLS}})))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call(ctx, c); err != nil {
		t.Fatalf("first call once the server is up: %v", err)
	}
}

// The early fetch is the engine's own: no caller is recorded as waiting for
// it.
func TestEarlyFetchIsNoCallersWait(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	events := make(chan tokensource.Event, 64)
	src := &quick{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src,
		WithRefreshOptions(tokensource.WithObserver(func(e tokensource.Event) { events <- e })))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the early fetch done", func() bool { return src.n.Load() == 1 })
	c.Close()
	close(events)
	for e := range events {
		if e.Kind == tokensource.CallerWaited {
			t.Errorf("event %v at construction: the early fetch is not a caller", e.Kind)
		}
	}
}
