package apikey_test

import (
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

func TestAPIKey(t *testing.T) {
	server := exampletest.Build(t, "server", "./server")
	client := exampletest.Build(t, "client", "./client")
	ca := grpccredstest.NewCA(t, "examples")
	leaf := ca.Server()
	srv := server.With("API_KEYS=tyk-key-2f9a,tyk-key-77c1").Start(t, "-addr", "127.0.0.1:0",
		"-cert", exampletest.WriteFile(t, "cert.pem", leaf.CertPEM),
		"-key", exampletest.WriteFile(t, "key.pem", leaf.KeyPEM), "-quota", "100")
	addr := srv.Addr(t)
	caFile := exampletest.WriteFile(t, "ca.pem", ca.PEM)
	run := func(t *testing.T, key string, args ...string) exampletest.Result {
		t.Helper()
		return client.With("API_KEY="+key).Run(t, append([]string{"-addr", addr, "-ca", caFile}, args...)...)
	}

	t.Run("valid key, with rate-limit hints", func(t *testing.T) {
		r := run(t, "tyk-key-2f9a")
		if r.Code != 0 || !r.Has("Check: SERVING") || !r.Has("rate limit: 99 remaining of 100") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
		if r = run(t, "tyk-key-77c1"); r.Code != 0 || !r.Has("rate limit: 98 remaining of 100") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		r := run(t, "tyk-key-0000")
		if r.Code != 1 || !r.Has("check: Unauthenticated") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("valid key in the wrong header", func(t *testing.T) {
		r := run(t, "tyk-key-2f9a", "-header", "x-api-key")
		if r.Code != 1 || !r.Has("check: Unauthenticated") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	t.Run("key with a space is refused by the client", func(t *testing.T) {
		r := run(t, "Bearer tyk-key-2f9a")
		if r.Code != 1 || r.Has("Check:") {
			t.Fatalf("exit %d:\n%s", r.Code, r.Output())
		}
	})
	if r := srv.Stop(t); r.Code != 0 {
		t.Fatalf("server exit %d:\n%s", r.Code, r.Output())
	}
}
