// Package bench compares grpccreds with the libraries it replaces, side by
// side in one run. It is a separate module so that those libraries stay out of
// grpccreds' own go.mod.
package bench

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/oauth"
)

// hotPathCreds returns ours and grpc-go's standard pairing, both over a
// long-lived RS256 JWT.
func hotPathCreds(b *testing.B) map[string]credentials.PerRPCCredentials {
	tok := &oauth2.Token{AccessToken: testjwt.Mint(time.Now().Add(time.Hour), nil), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	r := tokensource.Refreshing(oauth2.StaticTokenSource(tok))
	b.Cleanup(func() { r.Close() })
	return map[string]credentials.PerRPCCredentials{
		"grpccreds.Bearer+Refresher":         creds.NewBearer(r),
		"oauth.TokenSource+ReuseTokenSource": oauth.TokenSource{TokenSource: oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(tok))},
	}
}

// BenchmarkGetRequestMetadata compares the per-RPC cost through the
// credentials.PerRPCCredentials interface, as gRPC calls it.
func BenchmarkGetRequestMetadata(b *testing.B) {
	ctx := tlsCtx()
	for _, name := range []string{"grpccreds.Bearer+Refresher", "oauth.TokenSource+ReuseTokenSource"} {
		pc := hotPathCreds(b)[name]
		b.Run(name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pc.GetRequestMetadata(ctx, "https://h/pkg.Svc"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					pc.GetRequestMetadata(ctx, "https://h/pkg.Svc")
				}
			})
		})
	}
}

// BenchmarkRefreshStall has 64 goroutines get metadata while tokens keep
// needing a refresh from a 50 ms token endpoint, and reports per-call
// latency. Ours refreshes in the background 100 ms after each fetch; the
// anchor's token expires (after x/oauth2's 10 s early-expiry margin) 100 ms
// after each fetch, so its refresh happens at hard expiry, under its mutex.
func BenchmarkRefreshStall(b *testing.B) {
	slow := func(fetches *atomic.Int64, extra func(*oauth2.Token) *oauth2.Token) tokensource.Func {
		return func(context.Context) (*oauth2.Token, error) {
			fetches.Add(1)
			time.Sleep(50 * time.Millisecond)
			return extra(&oauth2.Token{AccessToken: "t", TokenType: "Bearer"}), nil
		}
	}
	b.Run("grpccreds.Bearer+Refresher", func(b *testing.B) {
		var fetches atomic.Int64
		r := tokensource.Refreshing(slow(&fetches, func(t *oauth2.Token) *oauth2.Token {
			t.Expiry = time.Now().Add(time.Hour)
			return t.WithExtra(map[string]any{"refresh_in": 0.1})
		}))
		defer r.Close()
		r.Token()
		fetches.Store(0)
		stall(b, creds.NewBearer(r), &fetches)
	})
	b.Run("oauth.TokenSource+ReuseTokenSource", func(b *testing.B) {
		var fetches atomic.Int64
		src := slow(&fetches, func(t *oauth2.Token) *oauth2.Token {
			t.Expiry = time.Now().Add(10*time.Second + 100*time.Millisecond)
			return t
		})
		pc := oauth.TokenSource{TokenSource: oauth2.ReuseTokenSource(nil, src)}
		pc.GetRequestMetadata(context.Background())
		fetches.Store(0)
		stall(b, pc, &fetches)
	})
}

// stall runs 64 callers for 700 ms per iteration. Each pauses 100 µs between
// calls, as a caller waiting on the network would, so that the latencies
// measure the credentials rather than 64 busy loops time-slicing 2 cores.
func stall(b *testing.B, pc credentials.PerRPCCredentials, fetches *atomic.Int64) {
	const callers = 64
	ctx := tlsCtx()
	var all []time.Duration
	for b.Loop() {
		lat := make([][]time.Duration, callers)
		stop := time.Now().Add(700 * time.Millisecond)
		var wg sync.WaitGroup
		for g := range callers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					start := time.Now()
					pc.GetRequestMetadata(ctx, "https://h/pkg.Svc")
					lat[g] = append(lat[g], time.Since(start))
					time.Sleep(100 * time.Microsecond)
				}
			})
		}
		wg.Wait()
		all = slices.Concat(append(lat, all)...)
	}
	slices.Sort(all)
	blocked := 0
	for _, d := range all {
		if d >= time.Millisecond {
			blocked++
		}
	}
	b.ReportMetric(float64(len(all))/float64(b.N), "calls/iter")
	b.ReportMetric(float64(all[len(all)-1].Microseconds()), "max-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(blocked), "calls≥1ms")
	b.ReportMetric(float64(fetches.Load())/float64(b.N), "fetches/iter")
}

// tlsCtx is the context gRPC hands per-RPC credentials on a TLS connection.
func tlsCtx() context.Context {
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	return credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: ai})
}
