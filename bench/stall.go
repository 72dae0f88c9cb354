package bench

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Point is one call: when it started (since the run began) and how long
// getting metadata took.
type Point struct {
	At, Took time.Duration
}

// StallResult summarises a refresh-stall run.
type StallResult struct {
	Calls, Blocked int // Blocked: calls that took ≥ 1 ms
	Fetches        int64
	Max, P99       time.Duration
	Pause          time.Duration // mean actual length of the callers' 100 µs sleeps
	Points         []Point
}

// StallCase sets up one library for a stall run: the token lifetime its
// endpoint issues and the options that put its refresh where the scenario
// wants it.
type StallCase struct {
	Lib      Lib
	Lifetime time.Duration
	Opts     Opts
}

// Background returns cases in which each library can refresh ahead of
// expiry: ours 100 ms after each fetch (refresh_in), Google's cached provider
// 100 ms after each fetch (its 3m45s early window), grpc-go/x/oauth2 has no
// background refresh, so its token reaches x/oauth2's 10 s early expiry after
// 100 ms.
func Background() []StallCase {
	return []StallCase{
		{Floor, time.Hour, Opts{}},
		{Ours, time.Hour, Opts{RefreshIn: 100 * time.Millisecond}},
		{GoogleAuth, 3*time.Minute + 45*time.Second + 100*time.Millisecond, Opts{}},
		{OAuthReuse, 10*time.Second + 100*time.Millisecond, Opts{}},
	}
}

// HardExpiry returns cases in which tokens live 60 ms, less than a refresh
// takes to be due and done, so every library meets expired tokens.
func HardExpiry() []StallCase {
	return []StallCase{
		{Ours, 60 * time.Millisecond, Opts{}},
		{GoogleAuth, 60 * time.Millisecond, Opts{ExpireEarly: time.Nanosecond}},
		{OAuthReuse, 10*time.Second + 60*time.Millisecond, Opts{}},
	}
}

// Stall runs 64 callers for d against a 50 ms token endpoint. Each pauses
// 100 µs between calls, as a caller waiting on the network would, so that the
// latencies measure the credentials rather than 64 busy loops sharing 2
// cores.
func Stall(c StallCase, d time.Duration) StallResult {
	const callers = 64
	e := NewEndpoint(50*time.Millisecond, c.Lifetime)
	pc, stop := c.Lib.New(e, c.Opts)
	defer stop()
	ctx := TLSContext()
	points := make([][]Point, callers)
	for g := range points {
		// Room for every call up front, so that recording a call does not
		// allocate and the run's garbage is the libraries' own.
		points[g] = make([]Point, 0, int(d/(100*time.Microsecond))+1)
	}
	runtime.GC()               // start clean: the previous run's garbage is not this one's pause
	pc.GetRequestMetadata(ctx) // warm: the first token is in place
	base := e.Fetches()
	start := time.Now()
	var slept atomic.Int64
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for time.Since(start) < d {
				t0 := time.Now()
				pc.GetRequestMetadata(ctx, "https://h/pkg.Svc")
				points[g] = append(points[g], Point{At: t0.Sub(start), Took: time.Since(t0)})
				t1 := time.Now()
				time.Sleep(100 * time.Microsecond)
				slept.Add(int64(time.Since(t1)))
			}
		})
	}
	wg.Wait()
	r := summarise(slices.Concat(points...), e.Fetches()-base)
	r.Pause = time.Duration(slept.Load() / int64(max(r.Calls, 1)))
	return r
}

func summarise(all []Point, fetches int64) StallResult {
	took := make([]time.Duration, len(all))
	r := StallResult{Calls: len(all), Fetches: fetches, Points: all}
	for i, p := range all {
		took[i] = p.Took
		if p.Took >= time.Millisecond {
			r.Blocked++
		}
	}
	slices.Sort(took)
	r.Max, r.P99 = took[len(took)-1], took[len(took)*99/100]
	return r
}
