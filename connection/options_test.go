package connection

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Each option is tried where it applies, and what it changes is observed on a
// real server: no option is accepted and then ignored.
func TestEveryOptionTakesEffect(t *testing.T) {
	ctx := context.Background()
	t.Run("WithDialOptions", func(t *testing.T) {
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
		var n atomic.Int64
		count := func(ctx context.Context, m string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, o ...grpc.CallOption) error {
			n.Add(1)
			return inv(ctx, m, req, reply, cc, o...)
		}
		c := mustTLS(t, srv, WithDialOptions(grpc.WithUnaryInterceptor(count)))
		if err := call(ctx, c); err != nil || n.Load() != 1 {
			t.Fatalf("call: %v; interceptor ran %d times, want 1", err, n.Load())
		}
	})
	t.Run("WithCallCredentials", func(t *testing.T) {
		var seen []string
		var mu sync.Mutex
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: func(_ context.Context, md metadata.MD) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, md.Get("x-api-key")...)
			return nil
		}})
		key, err := creds.NewAPIKey("x-api-key", "k-123")
		if err != nil {
			t.Fatal(err)
		}
		c := mustExternal(t, srv, "tok", WithCallCredentials(key))
		if err := call(ctx, c); err != nil {
			t.Fatal(err)
		}
		if a := lastAuth(t, srv); a != "Bearer tok" || len(seen) != 1 || seen[0] != "k-123" {
			t.Fatalf("server saw authorization %q and x-api-key %q; want both", a, seen)
		}
	})
	t.Run("WithClientCertificate", func(t *testing.T) {
		ca := grpccredstest.NewCA(t, "clients")
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: ca})
		if err := call(ctx, mustTLS(t, srv)); err == nil {
			t.Fatal("an mTLS server admitted a client without a certificate")
		}
		leaf := ca.Client("svc")
		if err := call(ctx, mustTLS(t, srv, WithClientCertificate(leaf.CertPEM, leaf.KeyPEM))); err != nil {
			t.Fatalf("with the client certificate: %v", err)
		}
	})
	t.Run("WithServerName", func(t *testing.T) {
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
		if err := call(ctx, mustTLS(t, srv, WithServerName("other.example.test"))); status.Code(err) != codes.Unavailable {
			t.Fatalf("a name the certificate does not carry: %v, want Unavailable", err)
		}
		if err := call(ctx, mustTLS(t, srv, WithServerName("localhost"))); err != nil {
			t.Fatalf("a name the certificate carries: %v", err)
		}
	})
	t.Run("WithInsecureLoopback", func(t *testing.T) {
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Insecure: true})
		c, err := WithTokenSource(srv.Addr, nil, &countingSource{}, WithInsecureLoopback())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := call(ctx, c); err != nil || lastAuth(t, srv) != "Bearer tok-1" {
			t.Fatalf("plaintext loopback call: %v, server saw %q", err, lastAuth(t, srv))
		}
	})
	t.Run("WithLogger", func(t *testing.T) {
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
		var buf syncBuffer
		l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := mustExternal(t, srv, "tok-a", WithLogger(l))
		c.UpdateAccessToken("tok-b")
		c.UpdateAccessToken("bad token")
		c2, err := WithTokenSource(srv.Addr, srv.CA.PEM, &countingSource{}, WithLogger(l))
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if err := call(ctx, c2); err != nil {
			t.Fatal(err)
		}
		c2.Close() // delivers the engine's events
		out := buf.String()
		for _, want := range []string{"access token updated", "update refused", "refresh"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("WithRefreshOptions", func(t *testing.T) {
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
		var kinds []tokensource.EventKind
		var mu sync.Mutex
		obs := tokensource.WithObserver(func(e tokensource.Event) { mu.Lock(); kinds = append(kinds, e.Kind); mu.Unlock() })
		c, err := WithTokenSource(srv.Addr, srv.CA.PEM, &countingSource{}, WithRefreshOptions(obs))
		if err != nil {
			t.Fatal(err)
		}
		if err := call(ctx, c); err != nil {
			t.Fatal(err)
		}
		c.Close()
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(kinds, tokensource.RefreshSucceeded) {
			t.Fatalf("observer saw %v, want RefreshSucceeded", kinds)
		}
		if _, err := WithTokenSource(srv.Addr, srv.CA.PEM, &countingSource{}, WithRefreshOptions(tokensource.WithJitter(2))); err == nil {
			t.Fatal("an out-of-range engine option was accepted")
		}
	})
	t.Run("WithRetryOnUnauthenticated", func(t *testing.T) {
		srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("tok-1", true)})
		src := &countingSource{}
		c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src, WithRetryOnUnauthenticated(false))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := call(ctx, c); status.Code(err) != codes.Unauthenticated || src.n.Load() != 1 {
			t.Fatalf("with the retry off: %v after %d fetches, want Unauthenticated after 1", err, src.n.Load())
		}
	})
}

// Options that cannot apply together, or to what they were given, are
// refused with an error naming them.
func TestMisappliedOptionsAreRefused(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	leaf := grpccredstest.NewCA(t, "c").Client("c")
	ext, err := tokensource.NewExternal("tok")
	if err != nil {
		t.Fatal(err)
	}
	for name, dial := range map[string]func() (*Connection, error){
		"WithClientCertificate": func() (*Connection, error) {
			return WithTLS("127.0.0.1:1", nil, WithInsecureLoopback(), WithClientCertificate(leaf.CertPEM, leaf.KeyPEM))
		},
		"WithServerName": func() (*Connection, error) {
			return WithTLS("127.0.0.1:1", nil, WithInsecureLoopback(), WithServerName("x"))
		},
		"rootPEM": func() (*Connection, error) { return WithTLS("127.0.0.1:1", srv.CA.PEM, WithInsecureLoopback()) },
		"not a loopback address": func() (*Connection, error) {
			return WithTLS("api.example.com:443", nil, WithInsecureLoopback())
		},
		"WithRetryOnUnauthenticated(true)": func() (*Connection, error) {
			return WithTokenSource(srv.Addr, srv.CA.PEM, ext, WithRetryOnUnauthenticated(true))
		},
		"WithRefreshOptions": func() (*Connection, error) {
			return WithTokenSource(srv.Addr, srv.CA.PEM, ext, WithRefreshOptions(tokensource.WithLeeway(0)))
		},
		"got nil": func() (*Connection, error) { return WithTokenSource(srv.Addr, srv.CA.PEM, nil) },
		"nil *tokensource.Refresher": func() (*Connection, error) {
			return WithTokenSource(srv.Addr, srv.CA.PEM, (*tokensource.Refresher)(nil))
		},
		"nil *tokensource.External": func() (*Connection, error) {
			return WithTokenSource(srv.Addr, srv.CA.PEM, (*tokensource.External)(nil))
		},
	} {
		c, err := dial()
		if err == nil || !strings.Contains(err.Error(), name) || !strings.HasPrefix(err.Error(), "connection: ") {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s: %v, want an error naming it", name, err)
		}
	}
}

// Connections given one engine share it, and it stops when the last of them
// closes, not before.
func TestConnectionsShareAnEngine(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	eng, err := tokensource.Refreshing(&countingSource{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := WithTokenSource(srv.Addr, srv.CA.PEM, eng)
	if err != nil {
		t.Fatal(err)
	}
	second, err := WithTokenSource(srv.Addr, srv.CA.PEM, eng)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	if err := call(context.Background(), second); err != nil {
		t.Fatalf("the second connection after the first closed: %v", err)
	}
	second.Close()
	if _, err := eng.Token(); !errors.Is(err, tokensource.ErrClosed) {
		t.Fatalf("the engine after both closed: %v, want ErrClosed", err)
	}
	if c, err := WithTokenSource(srv.Addr, srv.CA.PEM, eng); err == nil || !strings.Contains(err.Error(), "closed") {
		c.Close()
		t.Fatalf("a closed engine: %v, want a refusal", err)
	}
}

// Dial options cannot replace the connection's transport: a plaintext
// transport credential passed through WithDialOptions does not downgrade TLS.
func TestDialOptionsCannotReplaceTheTransport(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	c := mustExternal(t, srv, "tok", WithDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err := call(context.Background(), c); err != nil || lastAuth(t, srv) != "Bearer tok" {
		t.Fatalf("over TLS despite the dial option: %v, server saw %q", err, lastAuth(t, srv))
	}
}

func mustTLS(t *testing.T, srv *grpccredstest.Server, opts ...TLSOption) *Connection {
	t.Helper()
	c, err := WithTLS(srv.Addr, srv.CA.PEM, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WithRetryOnUnauthenticated(true) is refused where it would resend nothing
// (no token the connection can replace), and accepted there once the
// connection has WithOnBehalfOf users, whose tokens it resends.
func TestRetryOptionNeedsATokenToReplace(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	token := testjwt.Mint(time.Now().Add(time.Hour), nil)
	dials := map[string]func(...Option) (*Connection, error){
		"WithTLS": func(o ...Option) (*Connection, error) { return WithTLS(srv.Addr, srv.CA.PEM, asTLS(o)...) },
		"Insecure": func(o ...Option) (*Connection, error) {
			return Insecure("127.0.0.1:1", o...)
		},
		"WithExternalAccessToken": func(o ...Option) (*Connection, error) {
			return WithExternalAccessToken(srv.Addr, srv.CA.PEM, token, asToken(o)...)
		},
	}
	for name, dial := range dials {
		c, err := dial(WithRetryOnUnauthenticated(true))
		if err == nil || !strings.Contains(err.Error(), "WithRetryOnUnauthenticated(true) does not apply") {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s: %v, want WithRetryOnUnauthenticated(true) refused", name, err)
		}
		for _, on := range []bool{true, false} {
			users, err := tokensource.NewPerUser(func(context.Context, string) (*oauth2.Token, error) { return nil, nil }, 0)
			if err != nil {
				t.Fatal(err)
			}
			c, err := dial(WithOnBehalfOf(users), WithRetryOnUnauthenticated(on))
			if err != nil {
				t.Errorf("%s with users, WithRetryOnUnauthenticated(%v): %v", name, on, err)
				users.Close()
				continue
			}
			c.Close()
		}
	}
}

func asTLS(o []Option) []TLSOption {
	out := make([]TLSOption, len(o))
	for i, x := range o {
		out[i] = x
	}
	return out
}

func asToken(o []Option) []TokenOption {
	out := make([]TokenOption, len(o))
	for i, x := range o {
		out[i] = x
	}
	return out
}
