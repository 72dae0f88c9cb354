package creds

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/internal/enginetest"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const clientSecret = "cl1ent-s3cret-value"

// tokenEndpoint is an OAuth2 token endpoint over HTTPS that answers with h.
func tokenEndpoint(t *testing.T, h http.HandlerFunc) (*httptest.Server, *clientcredentials.Config, context.Context) {
	idp := httptest.NewTLSServer(h)
	t.Cleanup(idp.Close)
	cfg := &clientcredentials.Config{ClientID: "app", ClientSecret: clientSecret, TokenURL: idp.URL + "/token"}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, idp.Client())
	return idp, cfg, ctx
}

// After expiry (no token at all), each failure of the identity provider must
// reach the RPC caller with its own code, and no message may carry the secret
// or the response body.
func TestProviderFailuresReachTheCallerWithTheRightCode(t *testing.T) {
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	body := func(code int, js string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write([]byte(js))
		}
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		code    codes.Code
		says    string
	}{
		{"500", body(500, `{"error":"server_error","error_description":"body-detail"}`), codes.Unavailable, "HTTP 500"},
		{"503", body(503, `oops body-detail`), codes.Unavailable, "HTTP 503"},
		{"429", body(429, `{"error":"throttled","error_description":"body-detail"}`), codes.Unavailable, "HTTP 429"},
		{"invalid_client", body(401, `{"error":"invalid_client","error_description":"body-detail"}`), codes.Unauthenticated, "invalid_client"},
		{"invalid_grant", body(400, `{"error":"invalid_grant","error_description":"body-detail"}`), codes.Unauthenticated, "invalid_grant"},
		{"garbage JSON", body(200, `{not json body-detail`), codes.Unavailable, "token source failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, ctx := tokenEndpoint(t, tc.handler)
			r := enginetest.Engine(t, tokensource.ClientCredentials(ctx, cfg))
			defer r.Close()
			err := check(context.Background(), dialTLS(t, srv, NewBearer(r)))
			assertFailure(t, err, tc.code, tc.says)
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		lis, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := lis.Addr().String()
		lis.Close()
		cfg := &clientcredentials.Config{ClientID: "app", ClientSecret: clientSecret, TokenURL: "https://" + addr + "/token"}
		r := enginetest.Engine(t, tokensource.ClientCredentials(context.Background(), cfg))
		defer r.Close()
		assertFailure(t, check(context.Background(), dialTLS(t, srv, NewBearer(r))), codes.Unavailable, "unreachable")
	})

	t.Run("caller deadline", func(t *testing.T) {
		_, cfg, ctx := tokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so the server notices the client hanging up
			<-r.Context().Done()
		})
		r := enginetest.Engine(t, tokensource.ClientCredentials(ctx, cfg))
		defer r.Close()
		cctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		assertFailure(t, check(cctx, dialTLS(t, srv, NewBearer(r))), codes.DeadlineExceeded, "deadline")
	})
}

func assertFailure(t *testing.T, err error, code codes.Code, says string) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("code %v (%v), want %v", got, err, code)
	}
	msg := status.Convert(err).Message()
	if !strings.Contains(msg, says) {
		t.Errorf("message %q does not name %q", msg, says)
	}
	if strings.Contains(msg, clientSecret) || strings.Contains(msg, "body-detail") {
		t.Errorf("message leaks the secret or the body: %q", msg)
	}
}
