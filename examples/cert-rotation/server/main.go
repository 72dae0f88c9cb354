// Command server is a TLS gRPC API (the standard health service) that
// requires client certificates from the certificate authorities in
// -client-ca. It follows its own certificate and key, and the client CA
// file, on disk (read again every -reload), and ends each connection after
// -max-conn-age so that clients reconnect and present their current
// certificate. It prints the serial number of each client certificate it
// sees for the first time.
//
//	server -addr 127.0.0.1:50051 -cert server.pem -key server-key.pem -client-ca clients-ca.pem
//
// It prints "listening on HOST:PORT" when ready and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address to listen on")
	cert := flag.String("cert", "server.pem", "server certificate, PEM file")
	key := flag.String("key", "server-key.pem", "server private key, PEM file")
	clientCA := flag.String("client-ca", "clients-ca.pem", "PEM file of the CAs client certificates must chain to")
	reload := flag.Duration("reload", 30*time.Second, "how often to read the three files again")
	maxAge := flag.Duration("max-conn-age", 5*time.Minute, "end each connection after this long")
	flag.Parse()
	if err := run(*addr, *cert, *key, *clientCA, *reload, *maxAge); err != nil {
		log.Fatal(err)
	}
}

func run(addr, cert, key, clientCA string, reload, maxAge time.Duration) error {
	tc, err := composite.ServerTLSFromFiles(cert, key,
		composite.RequireClientCertificatesFromFile(clientCA), composite.WithReload(reload))
	if err != nil {
		return err
	}
	defer tc.Close()
	srv := grpc.NewServer(grpc.Creds(tc), grpc.UnaryInterceptor(newClients().record),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: maxAge, MaxConnectionAgeGrace: 10 * time.Second}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// Calls in progress get 5 seconds to finish; streams still open then
		// (a health Watch never ends by itself) are cut.
		cut := time.AfterFunc(5*time.Second, srv.Stop)
		defer cut.Stop()
		srv.GracefulStop()
	}()
	fmt.Println("listening on", lis.Addr())
	return srv.Serve(lis)
}

// clients remembers the client certificates seen so far.
type clients struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newClients() *clients { return &clients{seen: map[string]bool{}} }

func (c *clients) record(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			leaf := info.State.PeerCertificates[0]
			c.mu.Lock()
			if serial := leaf.SerialNumber.Text(16); !c.seen[serial] {
				c.seen[serial] = true
				fmt.Printf("client certificate %s (%s)\n", serial, leaf.Subject.CommonName)
			}
			c.mu.Unlock()
		}
	}
	return h(ctx, req)
}
