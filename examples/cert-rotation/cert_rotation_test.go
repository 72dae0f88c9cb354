package certrotation_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// replace writes a file at once (a new file renamed over the old), as
// rotating tools do.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func serial(l grpccredstest.Leaf) string { return l.TLS.Leaf.SerialNumber.Text(16) }

// TestRotation: the client's certificate files are rotated twice while it
// runs, with garbage written in between; the server sees each new
// certificate, and no call fails.
func TestRotation(t *testing.T) {
	server := exampletest.Build(t, "server", "./server")
	client := exampletest.Build(t, "client", "./client")
	serverCA, clientCA := grpccredstest.NewCA(t, "server CA"), grpccredstest.NewCA(t, "clients CA")
	leaf := serverCA.Server()
	srv := server.Start(t, "-addr", "127.0.0.1:0", "-reload", "50ms", "-max-conn-age", "200ms",
		"-cert", exampletest.WriteFile(t, "server.pem", leaf.CertPEM),
		"-key", exampletest.WriteFile(t, "server-key.pem", leaf.KeyPEM),
		"-client-ca", exampletest.WriteFile(t, "clients-ca.pem", clientCA.PEM))
	addr := srv.Addr(t)

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := clientCA.Client("billing-worker")
	replace(t, certFile, first.CertPEM)
	replace(t, keyFile, first.KeyPEM)
	cl := client.Start(t, "-addr", addr, "-ca", exampletest.WriteFile(t, "ca.pem", serverCA.PEM),
		"-cert", certFile, "-key", keyFile, "-reload", "50ms", "-interval", "20ms", "-calls", "250")
	cl.WaitFor(t, "certificate applied: serial "+serial(first))
	srv.WaitFor(t, "client certificate "+serial(first))

	for i := range 2 {
		next := clientCA.Client("billing-worker")
		exampletest.Say(t, "rotation %d: new key, then new certificate", i+1)
		replace(t, keyFile, next.KeyPEM)
		replace(t, certFile, next.CertPEM)
		cl.WaitFor(t, "certificate applied: serial "+serial(next))
		srv.WaitFor(t, "client certificate "+serial(next))
		exampletest.Say(t, "garbage in the certificate file")
		replace(t, certFile, []byte("not a certificate"))
		cl.WaitFor(t, "certificate refused")
		replace(t, certFile, next.CertPEM)
	}
	if r := cl.Wait(t); r.Code != 0 || !r.Has("made 250 calls, 0 failed") {
		t.Fatalf("client exit %d:\n%s", r.Code, r.Output())
	}
	if r := srv.Stop(t); r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}
