package composite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/creds"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTLSRejectsBadPEM(t *testing.T) {
	ca := grpccredstest.NewCA(t, "ca")
	leaf := ca.Server()
	for name, pemBytes := range map[string][]byte{
		"garbage":        []byte("not a certificate"),
		"empty":          {},
		"key only":       leaf.KeyPEM,
		"cert then junk": append(append([]byte{}, ca.PEM...), "junk"...),
		"broken DER":     []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
	} {
		if _, err := composite.TLS(pemBytes); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "root certificates") {
			t.Errorf("%s: unclear error %q", name, err)
		}
	}
	if _, err := composite.TLS(ca.PEM, composite.WithClientCertificate([]byte("x"), []byte("y"))); err == nil {
		t.Error("garbage client certificate accepted")
	}
	if _, err := composite.TLS(nil); err != nil {
		t.Errorf("system roots: %v", err)
	}
	if _, err := composite.TLSFromFile(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("missing CA file accepted")
	}
}

func call(t *testing.T, conn *grpc.ClientConn) error {
	return grpccredstest.HealthCheck(context.Background(), conn)
}

func TestChannelBundleOverRealTLS(t *testing.T) {
	clients := grpccredstest.NewCA(t, "clients")
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{ClientCAs: clients})
	dir := t.TempDir()
	caFile, certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	leaf := clients.Client("svc")
	os.WriteFile(caFile, srv.CA.PEM, 0o600)
	os.WriteFile(certFile, leaf.CertPEM, 0o600)
	os.WriteFile(keyFile, leaf.KeyPEM, 0o600)
	tc, err := composite.TLSFromFile(caFile, composite.WithClientCertificateFiles(certFile, keyFile), composite.WithServerName("localhost"))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	key, _ := creds.NewAPIKey("x-api-key", "k1")
	sig := creds.NewPlugin(func(_ context.Context, ri creds.RequestInfo) (map[string]string, error) {
		return map[string]string{"authorization": "Sig " + strings.TrimPrefix(ri.Method, "/")}, nil
	})
	conn, err := grpc.NewClient(srv.Addr, grpc.WithCredentialsBundle(composite.Channel(tc, key, sig)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := call(t, conn); err != nil {
		t.Fatal(err)
	}
	if got := srv.Auth(); len(got) != 1 || got[0][0] != "Sig grpc.health.v1.Health/Check" {
		t.Fatalf("server saw %q", got)
	}
}

func TestCallMergesInOrderAndRefusesDuplicates(t *testing.T) {
	a, _ := creds.NewAPIKey("x-a", "1")
	b, _ := creds.NewAPIKey("x-b", "2")
	dup, _ := creds.NewAPIKey("X-A", "3")
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	ctx := credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{AuthInfo: ai})
	md, err := composite.Call(a, b).GetRequestMetadata(ctx)
	if err != nil || md["x-a"] != "1" || md["x-b"] != "2" || len(md) != 2 {
		t.Fatalf("merged %v, %v", md, err)
	}
	_, err = composite.Call(a, dup).GetRequestMetadata(ctx)
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), `"x-a"`) {
		t.Fatalf("duplicate key: %v", err)
	}
	if !composite.Call(a, b).RequireTransportSecurity() {
		t.Fatal("composite of secure credentials does not require security")
	}
	loose, _ := creds.NewAPIKey("x-c", "4", creds.AllowInsecureLoopback())
	if composite.Call(loose).RequireTransportSecurity() {
		t.Fatal("loopback-only credentials reported as requiring security")
	}
}
