// Package testserver runs a real gRPC server on 127.0.0.1:0 for tests. It
// serves the standard health service, records the authorization metadata of
// every call, counts accepted TCP connections, and can reject calls.
package testserver

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/grpccreds/grpccreds/internal/demo"
	"github.com/grpccreds/grpccreds/internal/testpki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// Config configures a Server.
type Config struct {
	// Insecure serves plaintext instead of TLS.
	Insecure bool
	// ClientCAs, if set, requires clients to present a certificate from it.
	ClientCAs *testpki.CA
	// NoRecord stops the server from keeping every call's authorization
	// values (for long runs).
	NoRecord bool
	// Check, if set, runs before every call; a non-nil error is returned to
	// the client as is.
	Check func(ctx context.Context, md metadata.MD) error
}

// Server is a running test server.
type Server struct {
	Addr string
	// CA signed the server's certificate; clients trust CA.PEM.
	CA *testpki.CA

	cfg   Config
	srv   *grpc.Server
	conns atomic.Int64
	mu    sync.Mutex
	auth  [][]string
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: lis.Addr().String(), CA: testpki.NewCA("test CA"), cfg: cfg}
	opts := []grpc.ServerOption{grpc.UnaryInterceptor(s.unary), grpc.StreamInterceptor(s.stream)}
	if !cfg.Insecure {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tlsConfig())))
	}
	s.srv = grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s.srv, health.NewServer())
	go s.srv.Serve(&demo.CountingListener{Listener: lis, N: &s.conns})
	t.Cleanup(s.srv.Stop)
	return s
}

func (s *Server) tlsConfig() *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{s.CA.Server().TLS}, MinVersion: tls.VersionTLS12}
	if s.cfg.ClientCAs != nil {
		c.ClientCAs = s.cfg.ClientCAs.Pool()
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// Conns returns how many TCP connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Auth returns the authorization values of every call so far, one slice per
// call, in arrival order.
func (s *Server) Auth() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.auth...)
}

func (s *Server) admit(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if !s.cfg.NoRecord {
		s.mu.Lock()
		s.auth = append(s.auth, md.Get("authorization"))
		s.mu.Unlock()
	}
	if s.cfg.Check != nil {
		return s.cfg.Check(ctx, md)
	}
	return nil
}

func (s *Server) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.admit(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.admit(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}
