package main

import (
	"fmt"
	"time"

	"github.com/grpccreds/grpccreds/bench"
)

// rotation reports calls under certificate rotation, and what rotation costs
// a handshake.
func rotation(rounds, handshakes int, d time.Duration) {
	r := bench.RotationUnderLoad(64, d, 200*time.Millisecond)
	fmt.Printf("\n## TLS rotation under load\n\n")
	fmt.Println("| callers | run | rotations | calls | failed | connections | stale certificate |")
	fmt.Println("|---|---|---|---|---|---|---|")
	fmt.Printf("| 64 | %v | %d | %d | %d | %d | %d |\n", d, r.Rotations, r.Calls, r.Failed, r.Conns, r.Stale)
	fmt.Println("\nOne mTLS Connection; its client certificate replaced with UpdateClientCertificate every 200 ms; the server ends each connection after 100 ms (keepalive MaxConnectionAge), so the client keeps making new ones. Stale: connections whose certificate was older than one applied at least 20 ms before their first call.")

	res := bench.Handshakes(rounds, handshakes)
	base := res[bench.HandshakeVariants[0]].Median()
	fmt.Printf("\n## TLS handshakes per second (mTLS, ECDSA P-256, loopback TCP, one at a time)\n\n")
	fmt.Println("| client credentials | handshakes/s | × static |")
	fmt.Println("|---|---|---|")
	for _, v := range bench.HandshakeVariants {
		fmt.Printf("| %s | %s | %.3f |\n", v, res[v].Range("%.0f"), res[v].Median()/base)
	}
}
