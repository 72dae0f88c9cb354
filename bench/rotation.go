package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/programtb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
)

// RotationResult summarises a rotation-under-load run.
type RotationResult struct {
	Calls, Failed int64
	Rotations     int
	// Conns counts the connections the server saw; Stale those that
	// presented a certificate older than one applied at least 20 ms before
	// the connection's first call.
	Conns, Stale int
}

// RotationUnderLoad runs callers goroutines calling one mTLS connection for
// d, while its client certificate is replaced (UpdateClientCertificate)
// every `every`, and the server ends each connection after 100 ms, so that
// the client keeps making new ones.
func RotationUnderLoad(callers int, d, every time.Duration) RotationResult {
	tb := programtb.New()
	defer tb.Close()
	clients := grpccredstest.NewCA(tb, "clients")
	leaves := make([]grpccredstest.Leaf, int(d/every)+1)
	index := map[string]int{}
	for i := range leaves {
		leaves[i] = clients.Client("svc")
		index[leaves[i].TLS.Leaf.SerialNumber.String()] = i
	}
	var seen connsSeen
	srv := grpccredstest.NewServer(tb, grpccredstest.ServerConfig{ClientCAs: clients, NoRecord: true, Options: []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(seen.record),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 100 * time.Millisecond, MaxConnectionAgeGrace: 5 * time.Second}),
	}})
	conn, err := connection.WithTLS(srv.Addr, srv.CA.PEM, connection.WithClientCertificate(leaves[0].CertPEM, leaves[0].KeyPEM))
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	var applied []time.Time // when leaves[i] was applied
	var r RotationResult
	ctx, stop := context.WithTimeout(context.Background(), d)
	defer stop()
	var wg sync.WaitGroup
	var calls, failed atomic.Int64
	for range callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := grpccredstest.HealthCheck(cctx, conn)
				cancel()
				calls.Add(1)
				if err != nil {
					failed.Add(1)
				}
			}
		})
	}
	applied = append(applied, time.Now())
	tick := time.NewTicker(every)
	for i := 1; i < len(leaves) && ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
			if err := conn.UpdateClientCertificate(leaves[i].CertPEM, leaves[i].KeyPEM); err != nil {
				panic(err)
			}
			applied = append(applied, time.Now())
			r.Rotations++
		}
	}
	tick.Stop()
	wg.Wait()
	r.Calls, r.Failed = calls.Load(), failed.Load()
	for _, c := range seen.all() {
		r.Conns++
		newest := 0
		for i, at := range applied {
			if at.Before(c.at.Add(-20 * time.Millisecond)) {
				newest = i
			}
		}
		if index[c.serial] < newest {
			r.Stale++
		}
	}
	return r
}

// connsSeen records, for each connection (by the client's address), the
// certificate it presented and when its first call arrived.
type connsSeen struct {
	mu    sync.Mutex
	conns map[string]connSeen
}

type connSeen struct {
	serial string
	at     time.Time
}

func (s *connsSeen) record(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			s.mu.Lock()
			if s.conns == nil {
				s.conns = map[string]connSeen{}
			}
			if _, ok := s.conns[p.Addr.String()]; !ok {
				s.conns[p.Addr.String()] = connSeen{info.State.PeerCertificates[0].SerialNumber.String(), time.Now()}
			}
			s.mu.Unlock()
		}
	}
	return h(ctx, req)
}

func (s *connsSeen) all() []connSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connSeen
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

// HandshakeVariants are the client credentials of the handshake table: a
// static tls.Config (credentials.NewTLS), composite.TLS never changed, and
// composite.TLS whose client certificate is replaced every 200 ms during
// the run.
var HandshakeVariants = []string{"static tls.Config (credentials.NewTLS)", "composite.TLS", "composite.TLS, rotated every 200 ms"}

// Handshakes measures mTLS handshakes per second over loopback TCP, one
// after another, for each variant, in interleaved rounds of n handshakes.
func Handshakes(rounds, n int) map[string]Samples {
	tb := programtb.New()
	defer tb.Close()
	serverCA, clients := grpccredstest.NewCA(tb, "server"), grpccredstest.NewCA(tb, "clients")
	leaf, client := serverCA.Server(), clients.Client("svc")
	srvCreds, err := composite.ServerTLS(leaf.CertPEM, leaf.KeyPEM, composite.RequireClientCertificates(clients.PEM))
	if err != nil {
		panic(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer lis.Close()
	go serveHandshakes(lis, srvCreds)

	static := credentials.NewTLS(&tls.Config{RootCAs: poolOf(serverCA.PEM), Certificates: []tls.Certificate{client.TLS}, MinVersion: tls.VersionTLS12})
	ours, err := composite.TLS(serverCA.PEM, composite.WithClientCertificate(client.CertPEM, client.KeyPEM))
	if err != nil {
		panic(err)
	}
	rotated, err := composite.TLS(serverCA.PEM, composite.WithClientCertificate(client.CertPEM, client.KeyPEM))
	if err != nil {
		panic(err)
	}
	next := []grpccredstest.Leaf{clients.Client("svc"), clients.Client("svc")}
	out := map[string]Samples{}
	for range rounds {
		for i, c := range []credentials.TransportCredentials{static, ours, rotated} {
			stop := func() {}
			if i == 2 {
				stop = rotateEvery(rotated, next, 200*time.Millisecond)
			}
			out[HandshakeVariants[i]] = append(out[HandshakeVariants[i]], handshakeRate(lis.Addr().String(), c, n))
			stop()
		}
	}
	return out
}

func handshakeRate(addr string, c credentials.TransportCredentials, n int) float64 {
	start := time.Now()
	for range n {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			panic(err)
		}
		conn, _, err := c.ClientHandshake(context.Background(), "localhost", raw)
		if err != nil {
			panic(err)
		}
		conn.Close()
	}
	return float64(n) / time.Since(start).Seconds()
}

func serveHandshakes(lis net.Listener, c credentials.TransportCredentials) {
	for {
		raw, err := lis.Accept()
		if err != nil {
			return
		}
		go func() {
			if conn, _, err := c.ServerHandshake(raw); err == nil {
				conn.Close()
			} else {
				raw.Close()
			}
		}()
	}
}

// rotateEvery replaces c's certificate in turn from leaves until the
// returned func is called.
func rotateEvery(c *composite.TLSCredentials, leaves []grpccredstest.Leaf, every time.Duration) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
				l := leaves[i%len(leaves)]
				if err := c.UpdateCertificate(l.CertPEM, l.KeyPEM); err != nil {
					panic(err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func poolOf(pemBytes []byte) *x509.CertPool {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		panic("no certificate")
	}
	return p
}
