package customplugin_test

import (
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

func TestCustomPlugin(t *testing.T) {
	server := exampletest.Build(t, "server", "./server")
	client := exampletest.Build(t, "client", "./client")
	ca := grpccredstest.NewCA(t, "examples")
	leaf := ca.Server()
	srv := server.With("SIGNING_KEY=shared-key-8d1f").Start(t, "-addr", "127.0.0.1:0",
		"-cert", exampletest.WriteFile(t, "cert.pem", leaf.CertPEM),
		"-key", exampletest.WriteFile(t, "key.pem", leaf.KeyPEM))
	addr := srv.Addr(t)
	caFile := exampletest.WriteFile(t, "ca.pem", ca.PEM)

	t.Run("signed with the shared key", func(t *testing.T) {
		r := client.With("SIGNING_KEY=shared-key-8d1f").Run(t, "-addr", addr, "-ca", caFile)
		if r.Code != 0 || !r.Has("Check: SERVING") || !r.Has("Watch: SERVING") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
		srv.WaitFor(t, "admitted /grpc.health.v1.Health/Check")
		srv.WaitFor(t, "admitted /grpc.health.v1.Health/Watch")
	})
	t.Run("signed with another key", func(t *testing.T) {
		r := client.With("SIGNING_KEY=guessed-key").Run(t, "-addr", addr, "-ca", caFile)
		if r.Code != 1 || !r.Has("check: Unauthenticated: invalid x-signature") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
		srv.WaitFor(t, "refused /grpc.health.v1.Health/Check (bad x-signature)")
	})
	t.Run("no key", func(t *testing.T) {
		r := client.With("SIGNING_KEY=").Run(t, "-addr", addr, "-ca", caFile)
		if r.Code != 1 || !r.Has("set SIGNING_KEY") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	if r := srv.Stop(t); r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}
