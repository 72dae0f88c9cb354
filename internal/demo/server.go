// Package demo runs the servers of the runnable examples: a real gRPC server
// over TLS on 127.0.0.1, with its own throwaway certificate authority, the
// standard health service, and a count of accepted TCP connections.
package demo

import (
	"crypto/tls"
	"net"
	"sync/atomic"

	"github.com/grpccreds/grpccreds/internal/testpki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Server is a running example server.
type Server struct {
	Addr  string
	CAPEM []byte // what clients must trust
	srv   *grpc.Server
	conns atomic.Int64
}

// Start serves the health service over TLS with the given server options
// (typically interceptors).
func Start(opts ...grpc.ServerOption) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ca := testpki.NewCA("example CA")
	tc := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{ca.Server().TLS}, MinVersion: tls.VersionTLS12})
	s := &Server{Addr: lis.Addr().String(), CAPEM: ca.PEM}
	s.srv = grpc.NewServer(append([]grpc.ServerOption{grpc.Creds(tc)}, opts...)...)
	healthpb.RegisterHealthServer(s.srv, health.NewServer())
	go s.srv.Serve(&CountingListener{Listener: lis, N: &s.conns})
	return s, nil
}

// Conns returns how many TCP connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Stop stops the server.
func (s *Server) Stop() { s.srv.Stop() }

// CountingListener counts the connections it accepts in N.
type CountingListener struct {
	net.Listener
	N *atomic.Int64
}

// Accept accepts a connection and counts it.
func (l *CountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.N.Add(1)
	}
	return c, err
}
