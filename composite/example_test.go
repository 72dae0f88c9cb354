package composite_test

import (
	"log"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// TLS plus two call credentials in one bundle, as gRPC Python's
// composite_channel_credentials(ssl_channel_credentials(...), call_creds...).
func ExampleChannel() {
	var caPEM []byte // nil: trust the system roots
	tc, err := composite.TLS(caPEM, composite.WithServerName("api.example.com"))
	if err != nil {
		panic(err)
	}
	key, _ := creds.NewAPIKey("x-api-key", "my-key")
	conn, err := grpc.NewClient("api.example.com:443", grpc.WithCredentialsBundle(composite.Channel(tc, key)))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
}

// A client whose certificate, key and roots are renewed on disk (by
// cert-manager, Vault PKI or a SPIFFE helper): new connections use the
// current files, checked first; a half-written or bad rotation is refused
// and reported, and the last good material stays.
func ExampleTLSFromFile() {
	tc, err := composite.TLSFromFile("/etc/tls/ca.crt",
		composite.WithClientCertificateFiles("/etc/tls/tls.crt", "/etc/tls/tls.key"),
		composite.WithReload(30*time.Second),
		composite.WithTLSObserver(func(e composite.TLSEvent) {
			if e.Err != nil {
				log.Printf("%s from %s: %v", e.Kind, e.Origin, e.Err)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer tc.Close() // stops the rereading
	conn, err := grpc.NewClient("api.example.com:443", grpc.WithTransportCredentials(tc))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
}

// A server that follows its certificate files and the client CAs it
// requires; ending connections after a while makes clients reconnect and
// present their renewed certificates.
func ExampleServerTLSFromFiles() {
	tc, err := composite.ServerTLSFromFiles("/etc/tls/tls.crt", "/etc/tls/tls.key",
		composite.RequireClientCertificatesFromFile("/etc/tls/clients-ca.crt"))
	if err != nil {
		log.Fatal(err)
	}
	defer tc.Close()
	srv := grpc.NewServer(grpc.Creds(tc),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 30 * time.Minute}))
	_ = srv // register services, then srv.Serve(lis)
}
