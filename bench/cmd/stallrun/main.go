// Command stallrun runs the "refresh stall at hard expiry" case of grpccreds
// (bench.HardExpiry()[0]) a number of times in sequence and prints, for each
// run, the calls that took 1 ms or more, the slowest call, the fetches and
// the calls that waited for a fetch (0 means any slow call was a pause):
// the figure that should be 0 in every run. With -floor it runs a prebuilt
// map instead, which shows what the machine and harness add on their own.
// It is a quick check, not part of make bench.
package main

import (
	"flag"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/grpccreds/grpccreds/bench"
)

func main() {
	runs := flag.Int("n", 10, "runs")
	d := flag.Duration("d", 700*time.Millisecond, "length of each run")
	floor := flag.Bool("floor", false, "run the prebuilt-map floor instead, to see the harness's own noise")
	flag.Parse()
	c := bench.HardExpiry()[0]
	if *floor {
		c.Lib = bench.Floor
	}
	zero := 0
	for i := range *runs {
		var waited atomic.Int64
		c.Opts.Waited = &waited
		r := bench.Stall(c, *d)
		if r.Blocked == 0 {
			zero++
		}
		fmt.Printf("run %2d: calls %6d  blocked %3d  max %8v  p99 %8v  fetches %d  waited for a fetch %d\n",
			i+1, r.Calls, r.Blocked, r.Max.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Fetches, waited.Load())
	}
	fmt.Printf("%d of %d runs with 0 calls ≥ 1 ms\n", zero, *runs)
}
