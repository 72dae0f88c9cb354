package tokensource_test

import (
	"context"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/credentials"
)

// engine returns an engine holding a token that lives an hour and is due for
// refresh after refreshIn seconds; a refresh hangs until the benchmark ends,
// so a stale token stays stale.
func engine(b *testing.B, refreshIn float64) *tokensource.Refresher {
	b.Helper()
	first := true
	r, err := tokensource.Refreshing(tokensource.Func(func(ctx context.Context) (*oauth2.Token, error) {
		if !first {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		first = false
		tok := &oauth2.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}
		return tok.WithExtra(map[string]any{"refresh_in": refreshIn}), nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if _, err := r.Token(); err != nil {
		b.Fatal(err)
	}
	return r
}

func tlsContext() context.Context {
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	return credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: ai})
}

func BenchmarkTokenFresh(b *testing.B) {
	r, ctx := engine(b, 1800), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.TokenContext(ctx)
	}
}

func BenchmarkTokenFreshParallel(b *testing.B) {
	r, ctx := engine(b, 1800), context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.TokenContext(ctx)
		}
	})
}

// A token past its refresh point while its refresh is in flight.
func BenchmarkTokenStaleParallel(b *testing.B) {
	r, ctx := engine(b, 1e-6), context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.TokenContext(ctx)
		}
	})
}

func BenchmarkBearer(b *testing.B) {
	pc, ctx := creds.NewBearer(engine(b, 1800)), tlsContext()
	b.ReportAllocs()
	for b.Loop() {
		pc.GetRequestMetadata(ctx, "https://h/pkg.Svc")
	}
}

func BenchmarkBearerParallel(b *testing.B) {
	pc, ctx := creds.NewBearer(engine(b, 1800)), tlsContext()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			pc.GetRequestMetadata(ctx, "https://h/pkg.Svc")
		}
	})
}
