package otelgrpccreds

import (
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// tlsContext is what gRPC hands GetRequestMetadata on a TLS connection.
func tlsContext() context.Context {
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	return credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: ai})
}

// bearer returns per-RPC credentials over a fresh token, with the adapter
// attached (to a real SDK pipeline) if observed.
func bearer(tb testing.TB, observed bool) credentials.PerRPCCredentials {
	src := tokensource.Func(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "bench-token", Expiry: time.Now().Add(time.Hour)}, nil
	})
	var opts []tokensource.Option
	var obs *RefreshObserver
	if observed {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		tp := sdktrace.NewTracerProvider()
		var err error
		if obs, err = NewRefreshObserver(WithMeterProvider(mp), WithTracerProvider(tp)); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { obs.Close(); mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
		opts = append(opts, obs.Option())
	}
	r, err := tokensource.Refreshing(src, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	if obs != nil {
		obs.Watch(r)
	}
	pc := creds.NewBearer(r)
	if _, err := pc.GetRequestMetadata(tlsContext(), "https://h/pkg.Svc"); err != nil {
		tb.Fatal(err)
	}
	return pc
}

// BenchmarkGetRequestMetadata measures the hot path (a fresh token) with
// the adapter off and on, in the same run.
func BenchmarkGetRequestMetadata(b *testing.B) {
	for _, bc := range []struct {
		name     string
		observed bool
	}{{"adapter=off", false}, {"adapter=on", true}} {
		b.Run(bc.name, func(b *testing.B) {
			pc, ctx := bearer(b, bc.observed), tlsContext()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pc.GetRequestMetadata(ctx, "https://h/pkg.Svc"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures a server's cached check with the adapter off and
// on, in the same run.
func BenchmarkVerify(b *testing.B) {
	signer := newSigner(b)
	good, _ := signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: "n", OID: "o"}})
	for _, observed := range []bool{false, true} {
		name := map[bool]string{false: "adapter=off", true: "adapter=on"}[observed]
		b.Run(name, func(b *testing.B) {
			cfg := serverauth.Config{Issuers: []serverauth.Issuer{{URL: signer.Issuer,
				Audiences: []string{signer.Audience}, StaticKeys: map[string]crypto.PublicKey{signer.KeyID: signer.PublicKey}}}}
			if observed {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				obs, err := NewVerifyObserver(WithMeterProvider(mp))
				if err != nil {
					b.Fatal(err)
				}
				cfg.Observer = obs.Observe
			}
			v, err := serverauth.NewVerifier(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			ic, info := v.UnaryServerInterceptor(), &grpc.UnaryServerInfo{FullMethod: "/pkg.Svc/Get"}
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+good))
			handler := func(context.Context, any) (any, error) { return nil, nil }
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ic(ctx, nil, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The adapter costs the hot path no allocation.
func TestHotPathAllocationsUnchanged(t *testing.T) {
	ctx := tlsContext()
	for _, observed := range []bool{false, true} {
		pc := bearer(t, observed)
		if n := testing.AllocsPerRun(1000, func() { pc.GetRequestMetadata(ctx, "https://h/pkg.Svc") }); n > 1 {
			t.Fatalf("adapter on = %v: allocs per call = %v, want ≤ 1", observed, n)
		}
	}
}
