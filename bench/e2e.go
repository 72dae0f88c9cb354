package bench

import (
	"context"
	"crypto"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/programtb"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rps makes calls unary health checks with 8 workers and returns calls/s.
func rps(calls int, call func() error) float64 {
	const workers = 8
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range calls / workers {
				if err := call(); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	return float64(calls) / time.Since(start).Seconds()
}

func healthCall(cc grpc.ClientConnInterface, ctx context.Context) func() error {
	client := healthpb.NewHealthClient(cc)
	return func() error {
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
}

// interleave runs each named variant once per round, in order, for rounds
// rounds, and collects what each returns.
func interleave(names []string, rounds int, run func(name string) float64) map[string]Samples {
	out := map[string]Samples{}
	for range rounds {
		for _, n := range names {
			out[n] = append(out[n], run(n))
		}
	}
	return out
}

// EndToEnd measures unary RPC/s over loopback TLS without per-RPC
// credentials (the floor) and with each library's.
func EndToEnd(libs []Lib, rounds, calls int) (map[string]Samples, []string) {
	tb := programtb.New()
	defer tb.Close()
	srv := grpccredstest.NewServer(tb, grpccredstest.ServerConfig{NoRecord: true})
	tc, _ := tlsCreds(srv)
	names := []string{"TLS, no per-RPC credentials (floor)"}
	conns := map[string]*grpc.ClientConn{names[0]: dial(srv, grpc.WithTransportCredentials(tc))}
	for _, l := range libs {
		pc, stop := l.New(NewEndpoint(0, time.Hour), Opts{})
		defer stop()
		names = append(names, l.Name)
		conns[l.Name] = dial(srv, grpc.WithTransportCredentials(tc), grpc.WithPerRPCCredentials(pc))
	}
	for _, c := range conns {
		defer c.Close()
	}
	return interleave(names, rounds, func(n string) float64 { return rps(calls, healthCall(conns[n], context.Background())) }), names
}

// ServerVerification measures RPC/s against servers with no check, serverauth
// (3 issuers configured) with and without its cache, and a plain jwt.Parse
// per call (what the classic blog interceptor does).
func ServerVerification(rounds, calls int) (map[string]Samples, []string) {
	key := testjwt.PublicKey()
	cfg := serverauth.Config{RequiredClaims: []string{"name", "oid"}, Issuers: Issuers(3)}
	cached, _ := serverauth.NewVerifier(cfg)
	cfg.DisableCache = true
	uncached, _ := serverauth.NewVerifier(cfg)
	defer cached.Close()
	defer uncached.Close()
	allow := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		return h(ctx, req)
	}
	servers := map[string]grpc.UnaryServerInterceptor{
		"no verification": allow, "serverauth, cached, 3 issuers": cached.UnaryServerInterceptor(),
		"serverauth, uncached, 3 issuers": uncached.UnaryServerInterceptor(), "jwt.Parse per call": parseEveryCall(key),
	}
	names := []string{"no verification", "serverauth, cached, 3 issuers", "serverauth, uncached, 3 issuers", "jwt.Parse per call"}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+testjwt.Mint(time.Now().Add(time.Hour), nil))
	calls2 := map[string]func() error{}
	tb := programtb.New()
	defer tb.Close()
	for _, n := range names {
		srv := grpccredstest.NewServer(tb, grpccredstest.ServerConfig{NoRecord: true, Options: []grpc.ServerOption{grpc.UnaryInterceptor(servers[n])}})
		tc, _ := tlsCreds(srv)
		cc := dial(srv, grpc.WithTransportCredentials(tc))
		defer cc.Close()
		calls2[n] = healthCall(cc, ctx)
	}
	return interleave(names, rounds, func(n string) float64 { return rps(calls, calls2[n]) }), names
}

// parseEveryCall is the classic interceptor: jwt.Parse on every call.
func parseEveryCall(key crypto.PublicKey) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		auth := md.Get("authorization")
		if len(auth) != 1 {
			return nil, status.Error(codes.Unauthenticated, "no token")
		}
		_, err := jwt.Parse(strings.TrimPrefix(auth[0], "Bearer "), func(*jwt.Token) (any, error) { return key, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(testjwt.Issuer), jwt.WithAudience(testjwt.Audience))
		if err != nil {
			return nil, status.Error(codes.Unauthenticated, "bad token")
		}
		return h(ctx, req)
	}
}

// Swap measures RPC/s on a WithExternalAccessToken connection with no swaps
// and while another goroutine swaps the token every 100 µs (far more often
// than any real rotation; a tight loop would only measure a stolen core).
func Swap(rounds, calls int) (map[string]Samples, []string) {
	tb := programtb.New()
	defer tb.Close()
	srv := grpccredstest.NewServer(tb, grpccredstest.ServerConfig{NoRecord: true})
	tokens := [2]string{"opaque-token-aaaaaaaaaaaaaaaaaaaaaaaa", "opaque-token-bbbbbbbbbbbbbbbbbbbbbbbb"}
	conn, err := connection.WithExternalAccessToken(srv.Addr, srv.CA.PEM, tokens[0])
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	call := healthCall(conn, context.Background())
	names := []string{"no swaps", "a swap every 100 µs"}
	return interleave(names, rounds, func(n string) float64 {
		if n == names[0] {
			return rps(calls, call)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					conn.UpdateAccessToken(tokens[i&1])
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
		r := rps(calls, call)
		close(stop)
		wg.Wait()
		return r
	}), names
}

func tlsCreds(srv *grpccredstest.Server) (credentials.TransportCredentials, error) {
	return composite.TLS(srv.CA.PEM)
}

func dial(srv *grpccredstest.Server, opts ...grpc.DialOption) *grpc.ClientConn {
	cc, err := grpc.NewClient(srv.Addr, opts...)
	if err != nil {
		panic(err)
	}
	return cc
}
