package main

import (
	"fmt"
	"time"

	"github.com/grpccreds/grpccreds/bench"
)

// firstCall reports the first call on a fresh connection with round trips
// injected by delaying proxies, against the bound of connecting and
// fetching fully overlapped.
func firstCall(rounds int) {
	settings := []bench.RTTs{{Server: 50 * time.Millisecond, IdP: 100 * time.Millisecond}, {Server: 20 * time.Millisecond, IdP: 20 * time.Millisecond}}
	fmt.Printf("\n## First call: latency with injected round trips\n\n")
	fmt.Println("| RTT server / IdP | variant | ms | × bound |")
	fmt.Println("|---|---|---|---|")
	for _, rtt := range settings {
		res := bench.FirstCall(rtt, bench.FirstCallLibs, rounds)
		bound := res.Bound()
		label := fmt.Sprintf("%v / %v", rtt.Server, rtt.IdP)
		fmt.Printf("| %s | connect (first call, no credentials) | %s | |\n", label, res.Connect.Range("%.0f"))
		fmt.Printf("| | rpc (warm call) | %s | |\n", res.RPC.Range("%.1f"))
		fmt.Printf("| | fetch (one token request, fresh HTTPS) | %s | |\n", res.Fetch.Range("%.0f"))
		fmt.Printf("| | **bound** max(connect − rpc, fetch) + rpc | %.0f | 1.000 |\n", bound)
		for _, l := range bench.FirstCallLibs {
			s := res.Libs[l.Name]
			fmt.Printf("| | %s | %s | %.3f |\n", l.Name, s.Range("%.0f"), s.Median()/bound)
		}
	}
	fmt.Println("\nFirst call: from making the connection to the end of its first call, over fresh TCP, TLS and HTTP/2 to both; each proxy delays each direction by RTT/2 and a new connection's first bytes by a further RTT (the TCP handshake).")
}
