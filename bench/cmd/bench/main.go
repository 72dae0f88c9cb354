// Command bench runs grpccreds' comparative benchmarks side by side and
// prints Markdown tables of medians, ranges and ratios (make bench), and
// renders the refresh timeline to a PNG. -quick runs a short version for CI,
// which asserts nothing about speed.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/grpccreds/grpccreds/bench"
	"github.com/grpccreds/grpccreds/tokensource"
)

func main() {
	quick := flag.Bool("quick", false, "a short run (< 60 s) that only checks the harness works")
	plotPath := flag.String("plot", "refresh-timeline.png", "where to write the refresh timeline (empty: none)")
	flag.Parse()
	rounds, calls, hot, stall, rotate := 10, 4000, 200000, 700*time.Millisecond, 5*time.Second
	if *quick {
		rounds, calls, hot, stall, rotate = 2, 400, 20000, 300*time.Millisecond, time.Second
	}
	fmt.Printf("# grpccreds benchmarks\n\n%s, %d CPUs, %s; %d interleaved rounds per table; medians with (min–max).\n",
		runtime.Version(), runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, rounds)

	hotPath(rounds, hot)
	endToEnd(rounds, calls)
	firstCall(min(rounds, 5))
	stalls("with background refresh", bench.Background(), stall, *plotPath)
	stalls("at hard expiry (tokens live 60 ms)", bench.HardExpiry(), stall, "")
	rpcTable("Server verification: unary RPC/s over loopback TLS", rounds, calls, bench.ServerVerification)
	issuerScaling(min(rounds, 5))
	swap(rounds, calls)
	rotation(rounds, hot/1000, rotate)
}

func hotPath(rounds, n int) {
	libs := []bench.Lib{bench.Floor, bench.Ours, bench.OAuthReuse, bench.OAuthAccess, bench.GoogleAuth, bench.JWTFile}
	res := bench.HotPath(libs, rounds, n)
	anchor := res[bench.OAuthReuse.Name]
	fmt.Printf("\n## Hot path: GetRequestMetadata through the interface (936-byte RS256 JWT)\n\n")
	fmt.Println("| library | serial ns/call | × anchor | parallel ns/call | × anchor | allocs/call |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, l := range libs {
		r := res[l.Name]
		fmt.Printf("| %s | %s | %.3f | %s | %.3f | %.0f |\n", l.Name, r.Serial.Range("%.0f"), r.Serial.Median()/anchor.Serial.Median(),
			r.Parallel.Range("%.0f"), r.Parallel.Median()/anchor.Parallel.Median(), r.Allocs)
	}
	fmt.Println("\n× anchor: median ÷ the median of oauth+ReuseTokenSource (grpc-go's standard pairing).")
}

// endToEnd reports each library against two floors: TLS with no per-RPC
// credentials, and TLS with a prebuilt map carrying the same token (the cost
// of the header's bytes on the wire, which every library pays).
func endToEnd(rounds, calls int) {
	libs := []bench.Lib{bench.Floor, bench.Ours, bench.OAuthReuse, bench.OAuthAccess, bench.GoogleAuth, bench.JWTFile}
	res, names := bench.EndToEnd(libs, rounds, calls)
	none, prebuilt := res[names[0]].Median(), res[bench.Floor.Name].Median()
	fmt.Printf("\n## End to end: unary RPC/s over loopback TLS\n\n| variant | RPC/s | × no credentials | × prebuilt map |\n|---|---|---|---|\n")
	for _, n := range names {
		fmt.Printf("| %s | %s | %.3f | %.3f |\n", n, res[n].Range("%.0f"), res[n].Median()/none, res[n].Median()/prebuilt)
	}
}

func rpcTable(title string, rounds, calls int, run func(int, int) (map[string]bench.Samples, []string)) {
	res, names := run(rounds, calls)
	floor := res[names[0]].Median()
	fmt.Printf("\n## %s\n\n| variant | RPC/s | × %s |\n|---|---|---|\n", title, names[0])
	for _, n := range names {
		fmt.Printf("| %s | %s | %.3f |\n", n, res[n].Range("%.0f"), res[n].Median()/floor)
	}
}

// issuerScaling shows that a check's cost does not grow with the number of
// issuers configured.
func issuerScaling(rounds int) {
	counts := []int{1, 3, 50}
	res := bench.IssuerScaling(counts, rounds)
	fmt.Printf("\n## Server verification: one check in process, by issuers configured\n\n")
	fmt.Println("| issuers | cached ns/check | × 1 issuer | allocs | uncached ns/check | × 1 issuer | allocs |")
	fmt.Println("|---|---|---|---|---|---|---|")
	one := res[1]
	for _, n := range counts {
		r := res[n]
		fmt.Printf("| %d | %s | %.3f | %.0f | %s | %.3f | %.0f |\n", n, r.Cached.Range("%.0f"), r.Cached.Median()/one.Cached.Median(), r.CachedAllocs,
			r.Uncached.Range("%.0f"), r.Uncached.Median()/one.Uncached.Median(), r.UncachedAllocs)
	}
}

func stalls(title string, cases []bench.StallCase, d time.Duration, plotPath string) {
	fmt.Printf("\n## Refresh stall %s: 64 callers, 50 ms token endpoint, %v\n\n", title, d)
	fmt.Println("| library | calls | mean 100 µs pause | token fetches | calls ≥ 1 ms | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|---|")
	runs := map[string]bench.StallResult{}
	var names []string
	for _, c := range cases {
		r := bench.Stall(c, d)
		runs[c.Lib.Name], names = r, append(names, c.Lib.Name)
		fmt.Printf("| %s | %d | %v | %d | %d | %v | %v |\n", c.Lib.Name, r.Calls, r.Pause.Round(time.Microsecond), r.Fetches, r.Blocked,
			r.P99.Round(100*time.Nanosecond), r.Max.Round(10*time.Microsecond))
	}
	if plotPath != "" {
		if err := bench.PlotTimeline(plotPath, names, runs); err != nil {
			fmt.Fprintln(os.Stderr, "plot:", err)
			os.Exit(1)
		}
		fmt.Printf("\n![Slowest metadata call per 10 ms across token refreshes](bench/%s)\n", plotPath)
	}
}

func swap(rounds, calls int) {
	const n = 20000
	ext, _ := tokensource.NewExternal("opaque-token-aaaaaaaaaaaaaaaaaaaaaaaa")
	toks := [2]string{"opaque-token-aaaaaaaaaaaaaaaaaaaaaaaa", "opaque-token-bbbbbbbbbbbbbbbbbbbbbbbb"}
	start := time.Now()
	for i := range n {
		ext.Update(toks[i&1])
	}
	perSwap := time.Since(start) / n
	rpcTable(fmt.Sprintf("Token swaps: RPC/s on one connection (UpdateAccessToken of an opaque token: %v per swap)", perSwap),
		rounds, calls, bench.Swap)
}
