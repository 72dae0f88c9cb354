package creds

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/enginetest"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

func TestBearerSendsTokenOverTLS(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	r := enginetest.Engine(t, staticSource("tok-1"))
	defer r.Close()
	conn := dialTLS(t, srv, NewBearer(r))
	for range 3 {
		if err := check(context.Background(), conn); err != nil {
			t.Fatal(err)
		}
	}
	for _, got := range srv.Auth() {
		if len(got) != 1 || got[0] != "Bearer tok-1" {
			t.Fatalf("server saw authorization %q, want [Bearer tok-1]", got)
		}
	}
}

func TestBearerHotPathAllocations(t *testing.T) {
	r := enginetest.Engine(t, staticSource(testjwt.Mint(time.Now().Add(time.Hour), nil)))
	defer r.Close()
	var pc credentials.PerRPCCredentials = NewBearer(r)
	ctx := tlsCtx()
	if _, err := pc.GetRequestMetadata(ctx, "https://h/pkg.Svc"); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(1000, func() { pc.GetRequestMetadata(ctx, "https://h/pkg.Svc") })
	if n > 1 { // the one allowed is the caller's variadic slice
		t.Fatalf("allocs per call = %v, want ≤ 1", n)
	}
}

func TestBearerReturnsTheSameMapUntilTheTokenChanges(t *testing.T) {
	ext, _ := tokensource.NewExternal("first")
	b := NewBearer(ext)
	m1, _ := b.GetRequestMetadata(tlsCtx())
	m2, _ := b.GetRequestMetadata(tlsCtx())
	ext.Update("second")
	m3, _ := b.GetRequestMetadata(tlsCtx())
	if m1["authorization"] != "Bearer first" || m3["authorization"] != "Bearer second" {
		t.Fatalf("metadata %v then %v", m1, m3)
	}
	if len(m1) != 1 || !sameMap(m1, m2) || sameMap(m1, m3) {
		t.Fatal("map not reused while the token stays, or reused after it changed")
	}
}

func sameMap(a, b map[string]string) bool {
	a["probe"] = "x"
	defer delete(a, "probe")
	return b["probe"] == "x"
}

func TestHeaderAndScheme(t *testing.T) {
	b := NewBearer(staticSource("k3y"), WithHeader("Authorization"), WithScheme(""))
	md, err := b.GetRequestMetadata(tlsCtx())
	if err != nil || md["authorization"] != "k3y" {
		t.Fatalf("raw scheme: %v %v", md, err)
	}
	b = NewBearer(staticSource("k3y"), WithHeader("x-token"), WithScheme("Token"))
	if md, _ := b.GetRequestMetadata(tlsCtx()); md["x-token"] != "Token k3y" {
		t.Fatalf("custom header: %v", md)
	}
}

func TestInsecureConnectionNeverReachesTheSource(t *testing.T) {
	src := staticSource("tok")
	b := NewBearer(src)
	for name, ctx := range map[string]context.Context{
		"no request info": context.Background(),
		"plaintext":       plainCtx(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}),
	} {
		if _, err := b.GetRequestMetadata(ctx); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
		}
	}
	if src.calls.Load() != 0 {
		t.Fatalf("token source called %d times on insecure connections", src.calls.Load())
	}
	if !b.RequireTransportSecurity() {
		t.Fatal("RequireTransportSecurity is false without the opt-in")
	}
}

func TestPerCallOverrideSendsOneHeader(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	b := NewBearer(staticSource("default"))
	conn := dialTLS(t, srv, b)
	if err := check(b.WithToken(context.Background(), "override"), conn); err != nil {
		t.Fatal(err)
	}
	if err := check(b.WithToken(context.Background(), "bad\r\nx: y"), conn); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("bad override: %v, want Unauthenticated", err)
	}
	if err := check(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	got := srv.Auth()
	if len(got) != 2 || strings.Join(got[0], ",") != "Bearer override" || strings.Join(got[1], ",") != "Bearer default" {
		t.Fatalf("server saw %q", got)
	}
}

func TestUnusableTokenFromSource(t *testing.T) {
	b := NewBearer(staticSource("a\nb"))
	if _, err := b.GetRequestMetadata(tlsCtx()); status.Code(err) != codes.Unauthenticated || strings.Contains(err.Error(), "a\nb") {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentCallsSeeWholeTokens(t *testing.T) {
	ext, _ := tokensource.NewExternal("t-0")
	b := NewBearer(ext)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			ext.Update("t-" + strings.Repeat("x", i%50))
		}
	})
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				md, err := b.GetRequestMetadata(tlsCtx())
				if err != nil || !strings.HasPrefix(md["authorization"], "Bearer t-") {
					t.Errorf("got %v %v", md, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

var _ oauth2.TokenSource = (*countingSource)(nil)
