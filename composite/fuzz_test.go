package composite_test

import (
	"testing"

	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/grpccredstest"
)

// FuzzTLS: any bytes as root PEM either give credentials or a clear error,
// never a panic.
func FuzzTLS(f *testing.F) {
	ca := grpccredstest.NewCA(f, "fuzz")
	f.Add(ca.PEM)
	f.Add([]byte("garbage"))
	f.Add(append(append([]byte{}, ca.PEM...), ca.PEM...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, pemBytes []byte) {
		tc, err := composite.TLS(pemBytes)
		if err == nil && tc == nil {
			t.Fatal("no credentials and no error")
		}
	})
}
