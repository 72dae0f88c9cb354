package grpccredstest

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// ServerConfig configures a [Server]. The zero value serves TLS and admits
// every call.
type ServerConfig struct {
	// Verifier, if set, protects every call with its interceptors (a
	// *serverauth.Verifier, say), after the server has recorded what the call
	// carried.
	Verifier interface {
		UnaryServerInterceptor() grpc.UnaryServerInterceptor
		StreamServerInterceptor() grpc.StreamServerInterceptor
	}
	// Check, if set, runs before every call (after Verifier); a non-nil error
	// is returned to the client as is.
	Check func(ctx context.Context, md metadata.MD) error
	// ClientCAs, if set, requires clients to present a certificate it signed
	// (mTLS).
	ClientCAs *CA
	// Insecure serves plaintext instead of TLS.
	Insecure bool
	// NoRecord stops the server from keeping every call's authorization
	// values, for long runs.
	NoRecord bool
	// Register, if set, registers more services before the server starts.
	// The standard health service is always there.
	Register func(*grpc.Server)
	// Options are more gRPC server options, e.g. interceptors of your own.
	Options []grpc.ServerOption
}

// Server is a real gRPC server on 127.0.0.1 with its own throwaway CA and the
// standard health service. It records the authorization values of every call
// and counts the TCP connections it accepts.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	// CA signed the server's certificate; clients trust CA.PEM.
	CA *CA
	// TLS is the server's transport credentials (nil with Insecure). Rotate
	// the server's certificate with TLS.UpdateCertificate (a new leaf from
	// CA.Server, or from another CA) and the client certificate authorities
	// it requires with TLS.UpdateRoots (see Bundle); new connections use them.
	TLS *composite.TLSCredentials

	cfg   ServerConfig
	srv   *grpc.Server
	conns atomic.Int64
	mu    sync.Mutex
	auth  [][]string
}

// NewServer starts a Server and stops it, closing its connections, when the
// test ends.
func NewServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: lis.Addr().String(), CA: NewCA(t, "grpccredstest server CA"), cfg: cfg}
	if !cfg.Insecure {
		s.TLS = s.credentials(t)
	}
	s.srv = grpc.NewServer(append(s.options(), cfg.Options...)...)
	healthpb.RegisterHealthServer(s.srv, health.NewServer())
	if cfg.Register != nil {
		cfg.Register(s.srv)
	}
	go s.srv.Serve(&countingListener{Listener: lis, n: &s.conns})
	t.Cleanup(s.srv.Stop)
	return s
}

// options are the server's transport and the interceptors its config needs:
// none at all for NoRecord with no checks, so that benchmarks measure gRPC
// alone.
func (s *Server) options() []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	if !s.cfg.NoRecord {
		unary, stream = append(unary, s.unary), append(stream, s.stream)
	}
	if v := s.cfg.Verifier; v != nil {
		unary, stream = append(unary, v.UnaryServerInterceptor()), append(stream, v.StreamServerInterceptor())
	}
	if s.cfg.Check != nil {
		unary, stream = append(unary, s.checkUnary), append(stream, s.checkStream)
	}
	transport := insecure.NewCredentials()
	if s.TLS != nil {
		transport = s.TLS
	}
	return []grpc.ServerOption{grpc.Creds(transport), grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...)}
}

func (s *Server) credentials(t testing.TB) *composite.TLSCredentials {
	t.Helper()
	leaf := s.CA.Server()
	var opts []composite.ServerTLSOption
	if s.cfg.ClientCAs != nil {
		opts = append(opts, composite.RequireClientCertificates(s.cfg.ClientCAs.PEM))
	}
	c, err := composite.ServerTLS(leaf.CertPEM, leaf.KeyPEM, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Conns returns how many TCP connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Auth returns the authorization values of every call so far, one slice per
// call (empty for a call that carried none), in arrival order.
func (s *Server) Auth() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.auth...)
}

func (s *Server) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.auth = append(s.auth, md.Get("authorization"))
	s.mu.Unlock()
}

func (s *Server) check(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	return s.cfg.Check(ctx, md)
}

func (s *Server) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	s.record(ctx)
	return h(ctx, req)
}

func (s *Server) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	s.record(ss.Context())
	return h(srv, ss)
}

func (s *Server) checkUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) checkStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.check(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}

// countingListener counts the connections it accepts in n.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// HealthCheck makes one call of the standard health service, which every
// Server serves, within 5 seconds.
func HealthCheck(ctx context.Context, conn grpc.ClientConnInterface, opts ...grpc.CallOption) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, opts...)
	return err
}
