package connection

import (
	"fmt"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/testjwt"
)

// BenchmarkUpdateAccessToken measures a swap: validation plus the atomic
// store. A JWT is parsed (unverified) to read its exp; an opaque token is only
// scanned.
func BenchmarkUpdateAccessToken(b *testing.B) {
	srv := grpccredstest.NewServer(b, grpccredstest.ServerConfig{})
	tokens := map[string][2]string{
		"opaque": {"opaque-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "opaque-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		"jwt":    {testjwt.Mint(time.Now().Add(time.Hour), nil), testjwt.Mint(time.Now().Add(2*time.Hour), nil)},
	}
	for _, name := range []string{"opaque", "jwt"} {
		pair := tokens[name]
		c, err := WithExternalAccessToken(srv.Addr, srv.CA.PEM, pair[0])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%s/%dB", name, len(pair[0])), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.UpdateAccessToken(pair[i&1]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		c.Close()
	}
}
