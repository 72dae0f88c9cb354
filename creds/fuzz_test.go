package creds

import (
	"context"
	"strings"
	"testing"
)

// FuzzPluginMetadata: whatever a plugin returns, what passes the check is a
// lowercase legal key and, unless binary, a value without control characters.
func FuzzPluginMetadata(f *testing.F) {
	f.Add("x-signature", "abc")
	f.Add("X-Sig", "v")
	f.Add("grpc-timeout", "1S")
	f.Add("x-sig", "a\r\nb: c")
	f.Add("x-sig-bin", "\x00\xff")
	f.Fuzz(func(t *testing.T, key, value string) {
		p := NewPlugin(func(context.Context, RequestInfo) (map[string]string, error) {
			return map[string]string{key: value}, nil
		})
		if _, err := p.GetRequestMetadata(tlsCtx(), "https://h/s"); err != nil {
			return
		}
		if key != strings.ToLower(key) || strings.HasPrefix(key, "grpc-") || strings.ContainsAny(key, " :\r\n") {
			t.Fatalf("accepted key %q", key)
		}
		if !strings.HasSuffix(key, "-bin") && strings.ContainsAny(value, "\r\n\x00") {
			t.Fatalf("accepted value %q for %q", value, key)
		}
	})
}
