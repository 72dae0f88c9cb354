package connection

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/callstate"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/credentials"
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

// BenchmarkOnBehalfOf measures what a call made with OnBehalfOf costs the
// connection for a user whose token is cached: the context OnBehalfOf
// returns, the resend interceptor's call state, and the credential's
// metadata (the hash of the incoming token, the user's lookup and the
// header map). gRPC's own work for the call is not included.
func BenchmarkOnBehalfOf(b *testing.B) {
	users, err := tokensource.NewPerUser(func(context.Context, string) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "downstream-token", Expiry: time.Now().Add(time.Hour)}, nil
	}, 0)
	if err != nil {
		b.Fatal(err)
	}
	srv := grpccredstest.NewServer(b, grpccredstest.ServerConfig{})
	c, err := WithTLS(srv.Addr, srv.CA.PEM, WithOnBehalfOf(users))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ai := credentials.TLSInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	base := credentials.NewContextWithRequestInfo(context.Background(), credentials.RequestInfo{Method: "/pkg.Svc/M", AuthInfo: ai})
	incoming := testjwt.Mint(time.Now().Add(time.Hour), nil)
	b.Logf("incoming token: %d bytes", len(incoming))
	b.ReportAllocs()
	for b.Loop() {
		st := callstate.Next(c.OnBehalfOf(base, incoming))
		st.Owner = c.bearer
		md, err := c.bearer.GetRequestMetadata(callstate.With(base, st))
		if err != nil || md["authorization"] != "Bearer downstream-token" {
			b.Fatalf("%v %v", md, err)
		}
	}
}
