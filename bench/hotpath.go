package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/credentials"
)

// TLSContext is the context gRPC hands per-RPC credentials on a TLS
// connection.
func TLSContext() context.Context {
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	return credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: ai})
}

// HotPathResult is one library's per-call cost.
type HotPathResult struct {
	Serial, Parallel Samples // ns per call
	Allocs           float64 // per call, through the interface
}

// HotPath measures GetRequestMetadata for each library, serial and on every
// core, over a long-lived token, interleaving the libraries for rounds
// rounds of n calls each.
func HotPath(libs []Lib, rounds, n int) map[string]*HotPathResult {
	ctx := TLSContext()
	pcs := map[string]credentials.PerRPCCredentials{}
	for _, l := range libs {
		pc, stop := l.New(NewEndpoint(0, time.Hour), Opts{})
		defer stop()
		pc.GetRequestMetadata(ctx, "https://h/pkg.Svc")
		pcs[l.Name] = pc
	}
	out := map[string]*HotPathResult{}
	for _, l := range libs {
		pc := pcs[l.Name]
		out[l.Name] = &HotPathResult{Allocs: testing.AllocsPerRun(1000, func() { pc.GetRequestMetadata(ctx, "https://h/pkg.Svc") })}
	}
	for range rounds {
		for _, l := range libs {
			pc, r := pcs[l.Name], out[l.Name]
			r.Serial = append(r.Serial, perCall(n, 1, func() { pc.GetRequestMetadata(ctx, "https://h/pkg.Svc") }))
			r.Parallel = append(r.Parallel, perCall(n, 2, func() { pc.GetRequestMetadata(ctx, "https://h/pkg.Svc") }))
		}
	}
	return out
}

// perCall runs fn n times split over workers goroutines and returns the
// wall time per call in ns.
func perCall(n, workers int, fn func()) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range n / workers {
				fn()
			}
		})
	}
	wg.Wait()
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}
