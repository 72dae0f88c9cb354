package serverauth

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// BenchmarkServerVerification measures unary RPC/s over loopback TLS with no
// verification, with the verified-token cache and without it. The variants
// run interleaved (A B C A B C …) for 10 rounds so that drift on a noisy
// machine hits all three alike; it reports each variant's median RPC/s and
// the ratios to no verification.
func BenchmarkServerVerification(b *testing.B) {
	allow := NewValidator(func(ctx context.Context, _ string, _ metadata.MD) (context.Context, error) { return ctx, nil })
	cached, _ := NewVerifier(Config{Issuers: []Issuer{staticIssuer("k1")}, RequiredClaims: []string{"name", "oid"}})
	uncached, _ := NewVerifier(Config{Issuers: []Issuer{staticIssuer("k1")}, RequiredClaims: []string{"name", "oid"}, DisableCache: true})
	defer cached.Close()
	defer uncached.Close()
	names := []string{"none", "cached", "uncached"}
	clients := map[string]healthpb.HealthClient{
		"none": serve(b, allow), "cached": serve(b, cached.admit), "uncached": serve(b, uncached.admit),
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+sign("k1", baseClaims()))
	const rounds, callsPerRound, workers = 10, 2000, 8
	rps := map[string][]float64{}
	for b.Loop() {
		for range rounds {
			for _, n := range names {
				start := time.Now()
				var wg sync.WaitGroup
				for range workers {
					wg.Go(func() {
						for range callsPerRound / workers {
							if _, err := clients[n].Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				rps[n] = append(rps[n], callsPerRound/time.Since(start).Seconds())
			}
		}
	}
	med := map[string]float64{}
	for _, n := range names {
		slices.Sort(rps[n])
		med[n] = rps[n][len(rps[n])/2]
		b.ReportMetric(med[n], n+"-rpc/s")
	}
	b.ReportMetric(med["cached"]/med["none"], "cached/none")
	b.ReportMetric(med["uncached"]/med["none"], "uncached/none")
	for _, n := range names {
		b.Logf("%-9s median %.0f RPC/s, range %.0f–%.0f", n, med[n], rps[n][0], rps[n][len(rps[n])-1])
	}
}

// BenchmarkCheck is the verifier's per-call work in process: a cache hit
// against a full RS256 verification.
func BenchmarkCheck(b *testing.B) {
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+sign("k1", baseClaims())))
	for _, disable := range []bool{false, true} {
		cfg := staticConfig("k1")
		cfg.RequiredClaims, cfg.DisableCache = []string{"name", "oid"}, disable
		v, _ := NewVerifier(cfg)
		name := map[bool]string{false: "cached", true: "uncached"}[disable]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.check(in, "/pkg.S/M", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		v.Close()
	}
}

// BenchmarkCheckIssuers is BenchmarkCheck with 1 and with 50 issuers
// configured: finding a token's issuer is a map lookup, and a cache hit does
// not look at all.
func BenchmarkCheckIssuers(b *testing.B) {
	in := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+sign("k1", baseClaims())))
	for _, n := range []int{1, 50} {
		for _, disable := range []bool{false, true} {
			v, _ := NewVerifier(Config{Issuers: manyIssuers(n), DisableCache: disable, RequiredClaims: []string{"name", "oid"}})
			b.Run(fmt.Sprintf("issuers=%d/%s", n, map[bool]string{false: "cached", true: "uncached"}[disable]), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.check(in, "/pkg.S/M", nil); err != nil {
						b.Fatal(err)
					}
				}
			})
			v.Close()
		}
	}
}
