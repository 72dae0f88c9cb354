package creds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func TestPluginSignsEachMethod(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{Check: func(ctx context.Context, md metadata.MD) error {
		m, _ := grpc.Method(ctx)
		if got := md.Get("x-signature"); len(got) != 1 || got[0] != reverse(m) {
			return status.Error(codes.Unauthenticated, "bad signature")
		}
		return nil
	}})
	var seen RequestInfo
	p := NewPlugin(func(ctx context.Context, info RequestInfo) (map[string]string, error) {
		seen = info
		return map[string]string{"x-signature": reverse(info.Method)}, nil
	})
	if err := check(context.Background(), dialTLS(t, srv, p)); err != nil {
		t.Fatal(err)
	}
	if seen.Method != "/grpc.health.v1.Health/Check" || seen.URI != "https://"+srv.Addr+"/grpc.health.v1.Health" ||
		seen.SecurityLevel != credentials.PrivacyAndIntegrity || seen.AuthInfo == nil {
		t.Fatalf("RequestInfo = %+v", seen)
	}
}

func TestPluginErrorsAndBadMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		md   map[string]string
		err  error
		code codes.Code
	}{
		{"plain error", nil, errors.New("signer offline"), codes.Unauthenticated},
		{"status error", nil, status.Error(codes.Unavailable, "hsm busy"), codes.Unavailable},
		{"uppercase key", map[string]string{"X-Sig": "v"}, nil, codes.Internal},
		{"reserved key", map[string]string{"grpc-timeout": "1S"}, nil, codes.Internal},
		{"pseudo header", map[string]string{":authority": "x"}, nil, codes.Internal},
		{"CRLF value", map[string]string{"x-sig": "a\r\nb: c"}, nil, codes.Internal},
	} {
		p := NewPlugin(func(context.Context, RequestInfo) (map[string]string, error) { return tc.md, tc.err })
		_, err := p.GetRequestMetadata(tlsCtx(), "https://h/s")
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.code)
		}
	}
	p := NewPlugin(func(context.Context, RequestInfo) (map[string]string, error) {
		return map[string]string{"x-sig-bin": "\x00\xff", "x-ok": "a value"}, nil
	})
	if _, err := p.GetRequestMetadata(tlsCtx()); err != nil {
		t.Fatalf("binary and text values refused: %v", err)
	}
}

func TestAPIKey(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	k, err := NewAPIKey("Authorization", "tyk-key-123")
	if err != nil {
		t.Fatal(err)
	}
	if err := check(context.Background(), dialTLS(t, srv, k)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Auth(); len(got) != 1 || strings.Join(got[0], ",") != "tyk-key-123" {
		t.Fatalf("server saw %q, want the raw key", got)
	}
	for _, bad := range [][2]string{{"x-api-key", ""}, {"x-api-key", "a b"}, {"x-api-key", "k\r\n"}, {"bad header", "k"}, {"", "k"}} {
		if _, err := NewAPIKey(bad[0], bad[1]); err == nil {
			t.Errorf("NewAPIKey(%q, %q) accepted", bad[0], bad[1])
		}
	}
	if _, err := k.GetRequestMetadata(context.Background()); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("API key sent without TLS: %v", err)
	}
}

// A plugin that wraps a status error (fmt.Errorf with %w) chooses the call's
// code as a bare status error does.
func TestPluginWrappedStatusErrorKeepsItsCode(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	p := NewPlugin(func(context.Context, RequestInfo) (map[string]string, error) {
		return nil, fmt.Errorf("signing: %w", status.Error(codes.PermissionDenied, "no key"))
	})
	err := check(context.Background(), dialTLS(t, srv, p))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("call failed with %v, want PermissionDenied", err)
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "no key") {
		t.Fatalf("message %q lost the cause", msg)
	}
}
