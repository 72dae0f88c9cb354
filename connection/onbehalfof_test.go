package connection

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/serverauth"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// middleTier is a downstream service that admits only tokens for its own
// audience and records whom each call came from, and a middle tier's
// connection to it that trades its callers' tokens at the kit's identity
// provider (RFC 8693 token exchange).
type middleTier struct {
	idp     *grpccredstest.IdentityProvider
	srv     *grpccredstest.Server
	conn    *Connection
	mu      sync.Mutex
	oids    []string
	last    map[string]string // each user's last token seen
	revoked map[string]bool   // tokens refused with Unauthenticated
	refuse  bool              // refuse every token
}

func newMiddleTier(t *testing.T, opts ...tokensource.Option) *middleTier {
	m := &middleTier{idp: grpccredstest.NewIdentityProvider(t, "contoso", "api://middle"), last: map[string]string{}, revoked: map[string]bool{}}
	m.idp.Register("middle", grpccredstest.Client{Secret: "middle-s3cret"})
	v, err := serverauth.NewVerifier(serverauth.Config{HTTPClient: m.idp.HTTPClient(), Issuers: []serverauth.Issuer{
		{URL: m.idp.Issuer, Audiences: []string{"api://downstream"}, JWKSURL: m.idp.JWKSURL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	m.srv = grpccredstest.NewServer(t, grpccredstest.ServerConfig{Verifier: v, Check: func(ctx context.Context, md metadata.MD) error {
		c, _ := serverauth.ClaimsFromContext(ctx)
		tok := strings.TrimPrefix(strings.Join(md.Get("authorization"), ""), "Bearer ")
		m.mu.Lock()
		defer m.mu.Unlock()
		oid, _ := c["oid"].(string)
		m.last[oid] = tok
		if m.refuse || m.revoked[tok] {
			return status.Error(codes.Unauthenticated, "revoked")
		}
		m.oids = append(m.oids, oid)
		return nil
	}})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, m.idp.HTTPClient())
	cfg := &clientcredentials.Config{ClientID: "middle", ClientSecret: "middle-s3cret", TokenURL: m.idp.TokenURL}
	users, err := tokensource.NewPerUser(tokensource.OnBehalfOf(ctx, cfg, tokensource.Exchange{Audience: []string{"api://downstream"}}), 0, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if m.conn, err = WithTLS(m.srv.Addr, m.srv.CA.PEM, WithOnBehalfOf(users)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.conn.Close() })
	return m
}

// caller returns an incoming token for the middle tier, as a user's client
// would send it.
func (m *middleTier) caller(t *testing.T, oid string, exp time.Time) string {
	t.Helper()
	tok, err := m.idp.Signer.Mint(grpccredstest.Claims{Identity: grpccredstest.Identity{Name: oid, OID: oid}, Expiry: exp})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// lastToken returns the token the downstream service last saw from oid.
func (m *middleTier) lastToken(oid string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[oid]
}

func (m *middleTier) revoke(tok string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revoked[tok] = true
}

func (m *middleTier) seen() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := map[string]int{}
	for _, o := range m.oids {
		n[o]++
	}
	return n
}

// Two users' calls, 50 at once each, reach the downstream service as those
// users, with one exchange per user.
func TestOnBehalfOfCallsAsEachUser(t *testing.T) {
	m := newMiddleTier(t)
	hour := time.Now().Add(time.Hour)
	users := map[string]string{"oid-ada": m.caller(t, "oid-ada", hour), "oid-bob": m.caller(t, "oid-bob", hour)}
	before := m.idp.TokenRequests()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, incoming := range users {
		for range 50 {
			wg.Go(func() {
				if err := call(m.conn.OnBehalfOf(context.Background(), incoming), m.conn); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := m.seen(); got["oid-ada"] != 50 || got["oid-bob"] != 50 || len(got) != 2 {
		t.Fatalf("the downstream service saw calls from %v, want 50 from each user", got)
	}
	if n := m.idp.TokenRequests() - before; n != 2 {
		t.Fatalf("%d exchanges for 2 users' 100 cold calls, want 2", n)
	}
}

func TestOnBehalfOfRefusals(t *testing.T) {
	m := newMiddleTier(t)
	ada := m.caller(t, "oid-ada", time.Now().Add(time.Hour))
	t.Run("forwarding the incoming token is refused downstream", func(t *testing.T) {
		err := call(m.conn.WithToken(context.Background(), ada), m.conn)
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("%v, want Unauthenticated (the token's audience is the middle tier)", err)
		}
	})
	t.Run("an expired incoming token is not exchanged", func(t *testing.T) {
		before := m.idp.TokenRequests()
		err := call(m.conn.OnBehalfOf(context.Background(), m.caller(t, "oid-old", time.Now().Add(-time.Minute))), m.conn)
		if status.Code(err) != codes.Unauthenticated || m.idp.TokenRequests() != before {
			t.Fatalf("%v after %d requests, want Unauthenticated after none", err, m.idp.TokenRequests()-before)
		}
	})
	t.Run("a token the identity provider refuses", func(t *testing.T) {
		forged, err := grpccredstest.NewSigner(t, m.idp.Issuer, "api://middle").Mint(grpccredstest.Claims{})
		if err != nil {
			t.Fatal(err)
		}
		err = call(m.conn.OnBehalfOf(context.Background(), forged), m.conn)
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("%v, want Unauthenticated (invalid_grant)", err)
		}
	})
	t.Run("identity provider down", func(t *testing.T) {
		m.idp.SetMode(grpccredstest.Fail500)
		defer m.idp.SetMode(grpccredstest.Healthy)
		err := call(m.conn.OnBehalfOf(context.Background(), m.caller(t, "oid-new", time.Now().Add(time.Hour))), m.conn)
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("%v, want Unavailable", err)
		}
	})
	t.Run("the token is bound to its connection", func(t *testing.T) {
		other, err := WithTLS(m.srv.Addr, m.srv.CA.PEM)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		before := m.idp.TokenRequests()
		if err := call(m.conn.OnBehalfOf(context.Background(), ada), other); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("%v, want Unauthenticated: another connection sends no token", err)
		}
		if err := call(other.OnBehalfOf(context.Background(), ada), other); status.Code(err) != codes.Internal {
			t.Fatalf("OnBehalfOf without WithOnBehalfOf: %v, want Internal", err)
		}
		if m.idp.TokenRequests() != before {
			t.Fatal("a connection without WithOnBehalfOf caused an exchange")
		}
	})
}

// A user's token that the downstream service rejects is replaced: the call
// is resent once with a new token for that user alone. A service that
// rejects every token costs one more exchange per backoff period (an hour
// here), not one per call.
func TestOnBehalfOfReplacesARejectedToken(t *testing.T) {
	m := newMiddleTier(t, tokensource.WithBackoff(time.Hour, time.Hour))
	hour := time.Now().Add(time.Hour)
	ada, bob := m.caller(t, "oid-ada", hour), m.caller(t, "oid-bob", hour)
	for _, in := range []string{ada, bob} {
		if err := call(m.conn.OnBehalfOf(context.Background(), in), m.conn); err != nil {
			t.Fatal(err)
		}
	}
	first, bobs := m.lastToken("oid-ada"), m.lastToken("oid-bob")
	m.revoke(first)
	before := m.idp.TokenRequests()
	if err := call(m.conn.OnBehalfOf(context.Background(), ada), m.conn); err != nil {
		t.Fatalf("after ada's token was revoked: %v, want the call resent with a new token", err)
	}
	second := m.lastToken("oid-ada")
	if n := m.idp.TokenRequests() - before; n != 1 || second == first {
		t.Fatalf("%d exchanges, new token %v; want 1 exchange and a new token", n, second != first)
	}
	if err := call(m.conn.OnBehalfOf(context.Background(), bob), m.conn); err != nil || m.lastToken("oid-bob") != bobs {
		t.Fatalf("bob after ada's token was replaced: %v, same token %v; want his own token, untouched", err, m.lastToken("oid-bob") == bobs)
	}

	m.revoke(second)
	before = m.idp.TokenRequests()
	err := m.conn.Invoke(m.conn.OnBehalfOf(context.Background(), ada), "/grpc.health.v1.Health/Check", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}, NoRetryOnUnauthenticated())
	if status.Code(err) != codes.Unauthenticated || m.idp.TokenRequests() != before {
		t.Fatalf("NoRetryOnUnauthenticated: %v after %d exchanges, want Unauthenticated after none", err, m.idp.TokenRequests()-before)
	}

	m.mu.Lock()
	m.refuse = true
	m.mu.Unlock()
	carol := m.caller(t, "oid-carol", hour)
	before = m.idp.TokenRequests()
	for i := range 10 {
		if err := call(m.conn.OnBehalfOf(context.Background(), carol), m.conn); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("call %d to a service refusing every token: %v, want Unauthenticated", i, err)
		}
	}
	if n := m.idp.TokenRequests() - before; n != 2 {
		t.Fatalf("10 refused calls cost %d exchanges, want 2 (the first and one replacement)", n)
	}
}

// With the resend turned off, a rejected user's token is not replaced, on
// a connection with a token source of its own and on one without.
func TestOnBehalfOfWithoutResend(t *testing.T) {
	m := newMiddleTier(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, m.idp.HTTPClient())
	cfg := &clientcredentials.Config{ClientID: "middle", ClientSecret: "middle-s3cret", TokenURL: m.idp.TokenURL}
	dials := map[string]func(users *tokensource.PerUser) (*Connection, error){
		"WithTokenSource": func(users *tokensource.PerUser) (*Connection, error) {
			return WithTokenSource(m.srv.Addr, m.srv.CA.PEM, tokensource.ClientCredentials(ctx, cfg), WithOnBehalfOf(users), WithRetryOnUnauthenticated(false))
		},
		"WithTLS": func(users *tokensource.PerUser) (*Connection, error) {
			return WithTLS(m.srv.Addr, m.srv.CA.PEM, WithOnBehalfOf(users), WithRetryOnUnauthenticated(false))
		},
	}
	for name, dial := range dials {
		users, err := tokensource.NewPerUser(tokensource.OnBehalfOf(ctx, cfg, tokensource.Exchange{Audience: []string{"api://downstream"}}), 0)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := dial(users)
		if err != nil {
			t.Fatal(err)
		}
		ada := m.caller(t, "oid-"+name, time.Now().Add(time.Hour))
		if err := call(conn.OnBehalfOf(context.Background(), ada), conn); err != nil {
			t.Fatal(err)
		}
		m.revoke(m.lastToken("oid-" + name))
		before := m.idp.TokenRequests()
		for range 3 {
			if err := call(conn.OnBehalfOf(context.Background(), ada), conn); status.Code(err) != codes.Unauthenticated {
				t.Fatalf("%s: %v, want Unauthenticated: the resend is off", name, err)
			}
		}
		if n := m.idp.TokenRequests() - before; n != 0 {
			t.Fatalf("%s: %d exchanges with the resend off, want 0", name, n)
		}
		conn.Close()
	}
}

func TestOnBehalfOfCloseClosesTheUsers(t *testing.T) {
	users, err := tokensource.NewPerUser(func(context.Context, string) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "x"}, nil
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpccredstest.NewServer(t, grpccredstest.ServerConfig{})
	conn, err := WithTLS(srv.Addr, srv.CA.PEM, WithOnBehalfOf(users))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if _, err := users.Token(context.Background(), "u"); err != tokensource.ErrClosed {
		t.Fatalf("after Connection.Close: %v, want ErrClosed", err)
	}
}
