package connection

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
)

// serials records, per call, the serial number of the client certificate
// the call's connection was made with.
type serials struct {
	mu  sync.Mutex
	all []string
}

func (s *serials) option() grpc.ServerOption {
	return grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if p, ok := peer.FromContext(ctx); ok {
			if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
				s.mu.Lock()
				s.all = append(s.all, info.State.PeerCertificates[0].SerialNumber.Text(16))
				s.mu.Unlock()
			}
		}
		return h(ctx, req)
	})
}

func (s *serials) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.all) == 0 {
		return ""
	}
	return s.all[len(s.all)-1]
}

func serialOf(l grpccredstest.Leaf) string { return l.TLS.Leaf.SerialNumber.Text(16) }

// replace writes a file at once, as rotating tools do (a new file renamed
// over the old).
func replace(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// TestClientCertificateRotatesUnderLoad: a server that requires client
// certificates, and ends each connection after 100 ms so that the client
// makes new ones, sees the new certificate's serial after its files are
// rotated, and then after UpdateClientCertificate, while callers keep
// calling: no call fails, nothing is restarted.
func TestClientCertificateRotatesUnderLoad(t *testing.T) {
	clients := grpccredstest.NewCA(t, "clients")
	var seen serials
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: clients, NoRecord: true, Options: []grpc.ServerOption{
		seen.option(), grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 100 * time.Millisecond, MaxConnectionAgeGrace: time.Second}),
	}})
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first, second, third := clients.Client("svc"), clients.Client("svc"), clients.Client("svc")
	replace(t, certFile, first.CertPEM)
	replace(t, keyFile, first.KeyPEM)
	var logs bytes.Buffer
	conn, err := WithExternalAccessToken(srv.Addr, srv.CA.PEM, "opaque-token-1", WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		WithTLSOptions(composite.WithClientCertificateFiles(certFile, keyFile), composite.WithReload(10*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	var calls, failed atomic.Int64
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := call(cctx, conn)
				cancel()
				calls.Add(1)
				if err != nil && ctx.Err() == nil {
					failed.Add(1)
					t.Errorf("call failed: %v", err)
				}
			}
		})
	}
	eventually(t, "the first certificate in use", func() bool { return seen.last() == serialOf(first) })
	replace(t, keyFile, second.KeyPEM) // torn until the certificate follows
	replace(t, certFile, second.CertPEM)
	eventually(t, "the rotated files' certificate in use", func() bool { return seen.last() == serialOf(second) })
	if err := conn.UpdateClientCertificate(first.CertPEM, second.KeyPEM); err == nil {
		t.Error("a mismatched pair accepted")
	}
	if err := conn.UpdateClientCertificate(third.CertPEM, third.KeyPEM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the updated certificate in use", func() bool { return seen.last() == serialOf(third) })
	n := calls.Load()
	eventually(t, "more calls", func() bool { return calls.Load() > n+100 })
	stop()
	wg.Wait()
	if failed.Load() != 0 || calls.Load() < 100 {
		t.Fatalf("%d of %d calls failed", failed.Load(), calls.Load())
	}
	text := logs.String()
	for _, want := range []string{"TLS certificate applied", "TLS certificate refused", serialOf(second), serialOf(third)} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, string(third.KeyPEM[40:80])) {
		t.Error("the log carries key material")
	}
	t.Logf("%d calls, none failed", calls.Load())
}

// TestUpdateRootCAs: a connection follows its server to a new CA through an
// overlap bundle without a failed call, then trusts the new CA alone, after
// which the old CA's certificate is refused; bad roots are refused and the
// previous ones stay; a connection without TLS refuses both updates. The
// server ends connections after 50 ms, so the client keeps making new ones.
func TestUpdateRootCAs(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Options: []grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 50 * time.Millisecond, MaxConnectionAgeGrace: time.Second}),
	}})
	old, next := srv.CA, grpccredstest.NewCA(t, "next server CA")
	conn, err := WithTLS(srv.Addr, old.PEM)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// serverCA calls and returns the common name of the CA that issued the
	// server's certificate on the call's connection.
	serverCA := func() (string, error) {
		var p peer.Peer
		if err := grpccredstest.HealthCheck(ctx, conn, grpc.Peer(&p)); err != nil {
			return "", err
		}
		return p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates[0].Issuer.CommonName, nil
	}
	if _, err := serverCA(); err != nil {
		t.Fatal(err)
	}
	if err := conn.UpdateRootCAs([]byte("garbage")); err == nil {
		t.Fatal("garbage roots accepted")
	}
	if err := conn.UpdateRootCAs(grpccredstest.Bundle(old, next)); err != nil {
		t.Fatal(err)
	}
	leaf := next.Server()
	if err := srv.TLS.UpdateCertificate(leaf.CertPEM, leaf.KeyPEM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a connection to the server's new certificate", func() bool {
		ca, err := serverCA()
		if err != nil {
			t.Fatalf("a call failed during the move: %v", err)
		}
		return ca == "next server CA"
	})
	if err := conn.UpdateRootCAs(next.PEM); err != nil {
		t.Fatal(err)
	}
	back := old.Server()
	if err := srv.TLS.UpdateCertificate(back.CertPEM, back.KeyPEM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old CA's certificate refused", func() bool {
		_, err := serverCA()
		return err != nil && strings.Contains(err.Error(), "unknown authority")
	})

	plain, err := Insecure("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.UpdateRootCAs(next.PEM) == nil || plain.UpdateClientCertificate(leaf.CertPEM, leaf.KeyPEM) == nil {
		t.Fatal("TLS updates on a connection without TLS")
	}
}
