package bench

import (
	"context"
	"crypto"
	"fmt"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/serverauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Issuers returns n issuers with static keys: the test tokens' issuer last,
// after n-1 others with their own key IDs.
func Issuers(n int) []serverauth.Issuer {
	key := testjwt.PublicKey()
	out := make([]serverauth.Issuer, 0, n)
	for i := range n - 1 {
		out = append(out, serverauth.Issuer{URL: fmt.Sprintf("https://issuer-%d.example.test/", i),
			Audiences: []string{testjwt.Audience}, StaticKeys: map[string]crypto.PublicKey{fmt.Sprintf("other-%d", i): key}})
	}
	return append(out, serverauth.Issuer{URL: testjwt.Issuer, Audiences: []string{testjwt.Audience},
		StaticKeys: map[string]crypto.PublicKey{"test-key-1": key}})
}

// CheckCost is one configuration's cost per check in process.
type CheckCost struct {
	Cached, Uncached             Samples // ns per check
	CachedAllocs, UncachedAllocs float64
}

// IssuerScaling measures serverauth's unary interceptor in process (no
// network), cached and uncached, with each number of issuers, for rounds
// rounds of testing.Benchmark each.
func IssuerScaling(counts []int, rounds int) map[int]*CheckCost {
	ctx := metadata.NewIncomingContext(context.Background(),
		metadata.Pairs("authorization", "Bearer "+testjwt.Mint(time.Now().Add(time.Hour), nil)))
	info := &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}
	handler := func(context.Context, any) (any, error) { return nil, nil }
	out := map[int]*CheckCost{}
	for range rounds {
		for _, n := range counts {
			r := out[n]
			if r == nil {
				r = &CheckCost{}
				out[n] = r
			}
			for _, disable := range []bool{false, true} {
				v, err := serverauth.NewVerifier(serverauth.Config{Issuers: Issuers(n), DisableCache: disable, RequiredClaims: []string{"name", "oid"}})
				if err != nil {
					panic(err)
				}
				check := v.UnaryServerInterceptor()
				res := testing.Benchmark(func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := check(ctx, nil, info, handler); err != nil {
							b.Fatal(err)
						}
					}
				})
				v.Close()
				if disable {
					r.Uncached, r.UncachedAllocs = append(r.Uncached, float64(res.NsPerOp())), float64(res.AllocsPerOp())
				} else {
					r.Cached, r.CachedAllocs = append(r.Cached, float64(res.NsPerOp())), float64(res.AllocsPerOp())
				}
			}
		}
	}
	return out
}
