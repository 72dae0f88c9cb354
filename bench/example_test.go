package bench_test

import (
	"fmt"

	"github.com/grpccreds/grpccreds/bench"
)

func ExampleSamples() {
	s := bench.Samples{3, 1, 2}
	fmt.Println(s.Range("%.0f"))
	// Output: 2 (1–3)
}
