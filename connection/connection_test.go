package connection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) {
	if os.Getenv(childTarget) != "" {
		os.Exit(proxyChild())
	}
	goleak.VerifyTestMain(m)
}

var _ grpc.ClientConnInterface = (*Connection)(nil)

func call(ctx context.Context, c grpc.ClientConnInterface) error {
	return grpccredstest.HealthCheck(ctx, c)
}

func mustExternal(t *testing.T, srv *grpccredstest.Server, token string, opts ...TokenOption) *Connection {
	t.Helper()
	c, err := WithExternalAccessToken(srv.Addr, srv.CA.PEM, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// 64 goroutines call while another swaps the token 10 000 times: every call
// carries exactly one whole token from the set, over one TCP connection.
func TestSwapsUnderLoad(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	c := mustExternal(t, srv, "tok-0")
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= 10000; i++ {
			if err := c.UpdateAccessToken(fmt.Sprintf("tok-%d", i)); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(20 * time.Microsecond) // spread the swaps over the calls
		}
	})
	var calls atomic.Int64
	for range 64 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := call(context.Background(), c); err != nil {
					t.Error(err)
					return
				}
				calls.Add(1)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, auth := range srv.Auth() {
		if len(auth) != 1 {
			t.Fatalf("a call carried %d authorization values: %q", len(auth), auth)
		}
		var n int
		if _, err := fmt.Sscanf(auth[0], "Bearer tok-%d", &n); err != nil || n < 0 || n > 10000 || auth[0] != fmt.Sprintf("Bearer tok-%d", n) {
			t.Fatalf("a call carried %q, not a token from the set", auth[0])
		}
		seen[auth[0]] = true
	}
	if conns := srv.Conns(); conns != 1 {
		t.Fatalf("server accepted %d TCP connections, want 1", conns)
	}
	t.Logf("%d calls during 10000 swaps, %d distinct tokens seen", calls.Load(), len(seen))
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if last := srv.Auth()[len(srv.Auth())-1][0]; last != "Bearer tok-10000" {
		t.Fatalf("after the swaps a call carried %q", last)
	}
}

func TestBadUpdatesKeepTheOldToken(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	good := testjwt.Mint(time.Now().Add(time.Hour), nil)
	c := mustExternal(t, srv, good)
	for name, bad := range map[string]string{
		"empty":         "",
		"space":         "a b",
		"CRLF":          "x\r\nevil: 1",
		"non-ASCII":     "tøken",
		"malformed JWT": "eyJhbGciOiJSUzI1NiJ9.%%%.sig",
		"expired JWT":   testjwt.Mint(time.Now().Add(-time.Minute), nil),
	} {
		err := c.UpdateAccessToken(bad)
		if !errors.Is(err, tokensource.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
		if err := call(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if auth := srv.Auth(); auth[len(auth)-1][0] != "Bearer "+good {
			t.Errorf("%s: the next call did not carry the old token", name)
		}
	}
	if _, err := WithExternalAccessToken(srv.Addr, srv.CA.PEM, "a b"); !errors.Is(err, tokensource.ErrInvalidToken) {
		t.Fatalf("bad initial token: %v", err)
	}
}

func TestOpenStreamKeepsItsToken(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	c := mustExternal(t, srv, "first")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := healthpb.NewHealthClient(c).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	c.UpdateAccessToken("second")
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := srv.Auth(); len(got) != 2 || got[0][0] != "Bearer first" || got[1][0] != "Bearer second" {
		t.Fatalf("server saw %q", got)
	}
	cancel() // the stream stayed open throughout, with its first token
}

func TestUpdateOnOtherModes(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	c, err := WithTLS(srv.Addr, srv.CA.PEM)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.UpdateAccessToken("x"); !errors.Is(err, ErrNotExternal) {
		t.Fatalf("WithTLS: %v, want ErrNotExternal", err)
	}
	if err := call(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := srv.Auth(); len(got[0]) != 0 {
		t.Fatalf("WithTLS sent authorization %q", got[0])
	}
	c2, err := WithTokenSource(srv.Addr, srv.CA.PEM, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.UpdateAccessToken("y"); !errors.Is(err, ErrNotExternal) {
		t.Fatalf("WithTokenSource: %v, want ErrNotExternal", err)
	}
}

// countingSource issues tok-1, tok-2, … and counts fetches.
type countingSource struct{ n atomic.Int64 }

func (s *countingSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", s.n.Add(1)), Expiry: time.Now().Add(time.Hour)}, nil
}

func rejecting(token string, once bool) func(context.Context, metadata.MD) error {
	var done atomic.Bool
	return func(_ context.Context, md metadata.MD) error {
		if a := md.Get("authorization"); len(a) == 1 && a[0] == "Bearer "+token && !(once && done.Swap(true)) {
			return status.Error(codes.Unauthenticated, "token revoked")
		}
		return nil
	}
}

func TestRetryOnUnauthenticatedRefreshesOnce(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("tok-1", true)})
	src := &countingSource{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := call(context.Background(), c); err != nil {
		t.Fatalf("call with retry: %v", err)
	}
	if got := srv.Auth(); len(got) != 2 || got[0][0] != "Bearer tok-1" || got[1][0] != "Bearer tok-2" {
		t.Fatalf("server saw %q, want tok-1 then tok-2", got)
	}
	if n := src.n.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (initial + 1 refresh)", n)
	}
}

func TestRetryManyFailuresOneRefresh(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("tok-1", false)})
	src := &countingSource{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Claims(context.Background()) // the first fetch: everyone starts from tok-1
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := call(context.Background(), c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := src.n.Load(); n != 2 {
		t.Fatalf("fetches = %d for 50 concurrent failures, want 2 (initial + 1 refresh)", n)
	}
}

func TestNoRetryForPerCallTokens(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("own", false)})
	src := &countingSource{}
	c, err := WithTokenSource(srv.Addr, srv.CA.PEM, src, WithLazyStart())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := call(c.WithToken(context.Background(), "own"), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("got %v, want Unauthenticated", err)
	}
	if n := len(srv.Auth()); n != 1 || src.n.Load() != 0 {
		t.Fatalf("server saw %d calls and the source %d fetches, want 1 and 0", n, src.n.Load())
	}
}

func TestRetryIsOffForExternalTokens(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: rejecting("tok", false)})
	c := mustExternal(t, srv, "tok")
	if err := call(context.Background(), c); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("got %v, want Unauthenticated", err)
	}
	if n := len(srv.Auth()); n != 1 {
		t.Fatalf("server saw %d calls, want 1 (no resend)", n)
	}
}

func TestPlaintext(t *testing.T) {
	plain := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Insecure: true})
	if _, err := WithExternalAccessToken("10.1.2.3:443", nil, "tok", WithInsecureLoopback()); err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("non-loopback plaintext: %v", err)
	}
	if _, err := WithExternalAccessToken("api.example.com:443", nil, "tok", WithInsecureLoopback()); err == nil {
		t.Fatal("plaintext to a DNS name accepted")
	}
	c, err := WithExternalAccessToken(plain.Addr, nil, "tok", WithInsecureLoopback())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := call(context.Background(), c); err != nil {
		t.Fatalf("loopback plaintext with opt-in: %v", err)
	}
	// Without the opt-in, a token is never sent in plaintext: the TLS
	// handshake with a plaintext server fails instead.
	c2 := mustExternal(t, plain, "tok")
	// Its early attempt fails first; the first call still gets Unavailable
	// (after an attempt of its own), not a wait until its deadline.
	eventually(t, "the early TLS attempt failed", func() bool { return c2.cc.GetState() == connectivity.TransientFailure })
	if err := call(context.Background(), c2); status.Code(err) != codes.Unavailable {
		t.Fatalf("TLS against plaintext: %v", err)
	}
	if got := plain.Auth(); len(got) != 1 {
		t.Fatalf("plaintext server saw %d calls, want 1", len(got))
	}
	bearer := creds.NewBearer(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}))
	if c, err := Insecure(plain.Addr, WithDialOptions(grpc.WithPerRPCCredentials(bearer))); err == nil {
		c.Close()
		t.Fatal("Insecure accepted a bearer token")
	}
	in, err := Insecure(plain.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := call(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func TestUntrustedServerCertificate(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	other := grpccredstest.NewCA(t, "someone else")
	c, err := WithTLS(srv.Addr, other.PEM)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = call(context.Background(), c)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("untrusted server: %v", err)
	}
	if _, err := WithTLS(srv.Addr, []byte("garbage")); err == nil {
		t.Fatal("garbage PEM accepted")
	}
}

func TestMutualTLS(t *testing.T) {
	clients := grpccredstest.NewCA(t, "clients")
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: clients})
	leaf := clients.Client("svc-a")
	c := mustExternal(t, srv, "tok", WithClientCertificate(leaf.CertPEM, leaf.KeyPEM))
	if err := call(context.Background(), c); err != nil {
		t.Fatalf("with client certificate: %v", err)
	}
	c2 := mustExternal(t, srv, "tok")
	if err := call(context.Background(), c2); err == nil {
		t.Fatal("server requiring mTLS accepted a client without a certificate")
	}
}

func TestClaims(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	c := mustExternal(t, srv, testjwt.Mint(time.Now().Add(time.Hour), nil))
	cl, err := c.Claims(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cl["name"] != "Test User" || cl["oid"] == "" || strings.Join(cl.Roles(), ",") != "Reader,Trader" || cl.Expiry().IsZero() {
		t.Fatalf("claims = %+v", cl)
	}
	c2 := mustExternal(t, srv, "opaque")
	if _, err := c2.Claims(context.Background()); err == nil {
		t.Fatal("claims of an opaque token")
	}
}

func TestFormattingNeverShowsTheToken(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	const secret = "s3cr3t-t0ken"
	c := mustExternal(t, srv, secret)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, c); strings.Contains(out, secret) {
			t.Fatalf("%s shows the token: %s", verb, out)
		}
	}
}
