// Command client calls a gRPC API that requires a client certificate (mTLS),
// and follows its certificate, key and roots on disk as a rotator renews them
// (cert-manager, Vault PKI, a SPIFFE helper): new connections present the
// new certificate, without a restart and without a failed call. A file
// caught half written, or a certificate that does not match its key, has
// expired or is garbage, is refused and the current one kept.
//
//	client -addr 127.0.0.1:50051 -ca ca.pem -cert tls.crt -key tls.key -reload 30s
//
// It calls the standard health service every -interval, until -calls calls
// or SIGINT/SIGTERM, prints each change of certificate and how many calls it
// made, and exits 1 if any failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/connection"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	ca := flag.String("ca", "ca.pem", "PEM file of roots for the server's certificate, re-read too")
	cert := flag.String("cert", "tls.crt", "client certificate, PEM file")
	key := flag.String("key", "tls.key", "client private key, PEM file")
	reload := flag.Duration("reload", 30*time.Second, "how often to read the three files again")
	interval := flag.Duration("interval", time.Second, "time between calls")
	calls := flag.Int("calls", 0, "stop after this many calls (0: run until interrupted)")
	flag.Parse()
	if err := run(*addr, *ca, *cert, *key, *reload, *interval, *calls); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, ca, cert, key string, reload, interval time.Duration, max int) error {
	if interval <= 0 || reload <= 0 || max < 0 {
		return errors.New("-interval and -reload must be positive, -calls not negative")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, err := connection.WithTLS(addr, nil, connection.WithTLSOptions(
		composite.WithRootsFile(ca),
		composite.WithClientCertificateFiles(cert, key),
		composite.WithReload(reload),
		composite.WithTLSObserver(show),
	))
	if err != nil {
		return err
	}
	defer conn.Close()

	health := healthpb.NewHealthClient(conn)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	calls, failed := 0, 0
loop:
	for max == 0 || calls < max {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		calls++
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := health.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err != nil {
			failed++
			fmt.Printf("call %d: %s: %s\n", calls, status.Code(err), status.Convert(err).Message())
		} else {
			fmt.Printf("call %d: %s\n", calls, resp.GetStatus())
		}
	}
	fmt.Printf("made %d calls, %d failed\n", calls, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d calls failed", failed, calls)
	}
	return nil
}

// show prints a change of TLS material; events never carry key material.
func show(e composite.TLSEvent) {
	switch {
	case e.Err != nil:
		fmt.Printf("%s (%s), keeping the current one: %v\n", e.Kind, e.Origin, e.Err)
	case e.Serial != "":
		fmt.Printf("%s: serial %s, expires %s\n", e.Kind, e.Serial, e.NotAfter.Format(time.RFC3339))
	default:
		fmt.Printf("%s (%s)\n", e.Kind, e.Origin)
	}
}
