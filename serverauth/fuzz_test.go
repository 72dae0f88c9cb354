package serverauth

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
)

// FuzzHeader: any authorization header is refused or admitted without a
// panic, refusals do not echo it, and no forged input is admitted.
func FuzzHeader(f *testing.F) {
	good := "Bearer " + sign("k1", baseClaims())
	f.Add("Bearer")
	f.Add("Bearer  ")
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("Bearer " + strings.Repeat("j", 10<<10))
	f.Add("Bearer eyJhbGciOiJub25lIn0.e30.")
	f.Add(good)
	cfg := staticConfig("k1")
	cfg.RequiredClaims = []string{"name", "oid"}
	v, err := NewVerifier(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { v.Close() })
	f.Fuzz(func(t *testing.T, h string) {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{"authorization": {h}})
		_, err := v.check(ctx, "/pkg.S/M", nil)
		if err == nil {
			if h != good && !strings.EqualFold(h[:7], good[:7]) || strings.TrimSpace(h[7:]) != good[7:] {
				t.Fatalf("admitted a header that is not the signed token: %q", h)
			}
			return
		}
		if len(h) > 16 && strings.Contains(err.Error(), h[7:]) {
			t.Fatalf("refusal echoes the header: %v", err)
		}
	})
}
