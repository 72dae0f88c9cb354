// Command client keeps one TLS channel to a gRPC API and authenticates with an
// access token that someone else obtains and rotates (Volue Mesh's
// with_external_access_token / update_external_access_token): it reads the
// token from a file and, on SIGHUP (or every -reread), reads the file again
// and swaps the new token in without redialling. A token that is not usable
// (malformed, expired) is refused and the current one kept.
//
//	client -addr 127.0.0.1:50051 -ca ca.pem -token-file token.jwt
//	kill -HUP <pid>   # after writing a new token to token.jwt
//
// It calls the standard health service every -interval, until -calls calls
// or SIGINT/SIGTERM, prints how many calls it made, and exits 1 if any failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/connection"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	ca := flag.String("ca", "", "PEM file of roots for the server's certificate (default: system roots)")
	tokenFile := flag.String("token-file", "token.jwt", "file holding the access token")
	interval := flag.Duration("interval", time.Second, "time between calls")
	calls := flag.Int("calls", 0, "stop after this many calls (0: run until interrupted)")
	reread := flag.Duration("reread", 0, "also re-read the token file this often (0: only on SIGHUP)")
	flag.Parse()
	if err := run(*addr, *ca, *tokenFile, *interval, *calls, *reread); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(addr, ca, tokenFile string, interval time.Duration, max int, reread time.Duration) error {
	if interval <= 0 || reread < 0 || max < 0 {
		return errors.New("-interval must be positive, -reread and -calls not negative")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var rootPEM []byte // nil: the system roots
	if ca != "" {
		var err error
		if rootPEM, err = os.ReadFile(ca); err != nil {
			return err
		}
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	conn, err := connection.WithExternalAccessToken(addr, rootPEM, strings.TrimSpace(string(token)))
	if err != nil {
		return err
	}
	defer conn.Close()
	showToken(ctx, conn, "token")

	var rereads <-chan time.Time
	if reread > 0 {
		tick := time.NewTicker(reread)
		defer tick.Stop()
		rereads = tick.C
	}
	health := healthpb.NewHealthClient(conn)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	calls, failed := 0, 0
loop:
	for max == 0 || calls < max {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
		case <-rereads:
		case <-tick.C:
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
			continue
		}
		token, err := os.ReadFile(tokenFile)
		if err == nil {
			err = conn.UpdateAccessToken(strings.TrimSpace(string(token)))
		}
		if err != nil {
			fmt.Println("new token refused, keeping the current one:", err)
			continue
		}
		showToken(ctx, conn, "token updated")
	}
	fmt.Printf("made %d calls, %d failed, on one channel\n", calls, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d calls failed", failed, calls)
	}
	return nil
}

// showToken prints whom the current token names; the claims are not verified
// here, the server does that.
func showToken(ctx context.Context, conn *connection.Connection, what string) {
	if c, err := conn.Claims(ctx); err == nil {
		fmt.Printf("%s: acting as %v (oid %v), expires %s\n", what, c["name"], c["oid"], c.Expiry().Format(time.RFC3339))
	}
}
