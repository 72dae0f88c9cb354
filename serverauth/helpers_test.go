package serverauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testIssuer = "https://login.example.test/tenant/v2.0"
	audience   = "api://energy-trading"
)

var (
	keysOnce sync.Once
	keys     map[string]*rsa.PrivateKey
)

// key returns a test RSA key by name ("k1", "k2", "k3"), generated once.
func key(kid string) *rsa.PrivateKey {
	keysOnce.Do(func() {
		keys = map[string]*rsa.PrivateKey{}
		for _, k := range []string{"k1", "k2", "k3"} {
			keys[k], _ = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	return keys[kid]
}

// shortKey is a 1024-bit RSA key, too short to trust (RFC 7518 §3.3).
var shortKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

// claims returns good claims for a Trader, which tests then spoil.
func baseClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": testIssuer, "aud": audience, "sub": "s", "oid": "o-1", "name": "Trading Bot",
		"roles": []string{"Reader", "Trader"}, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
}

// sign signs c with the test key kid and names it in the header.
func sign(kid string, c jwt.MapClaims) string { return signWith(kid, kid, c) }

// signWith signs c with the test key name and puts kid in the header, or no
// kid if it is "".
func signWith(name, kid string, c jwt.MapClaims) string {
	return signHeader(name, map[string]any{"kid": kid}, c)
}

// signHeader signs c with the test key name ("short" for shortKey), with
// the header fields in header added ("" values left out).
func signHeader(name string, header map[string]any, c jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	for k, v := range header {
		if v != "" {
			t.Header[k] = v
		}
	}
	priv := shortKey()
	if name != "short" {
		priv = key(name)
	}
	s, err := t.SignedString(priv)
	if err != nil {
		panic(err)
	}
	return s
}

// jwks is an HTTPS JWKS endpoint whose key set, availability and request
// count the test controls.
type jwksServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	keys     []servedKey
	down     bool
	delay    time.Duration // before each answer
	requests atomic.Int64
}

// servedKey is a key the JWKS publishes: the public half of the test key
// name ("short" for shortKey), under the key ID kid (none if ""), with the
// given "use" (default "sig") and "key_ops" (default none).
type servedKey struct {
	kid, name string
	use       jwkset.USE
	ops       []jwkset.KEYOPS
}

// ownKIDs publishes each test key under its own name.
func ownKIDs(kids []string) []servedKey {
	keys := make([]servedKey, len(kids))
	for i, k := range kids {
		keys[i] = servedKey{kid: k, name: k}
	}
	return keys
}

func startJWKS(t *testing.T, kids ...string) *jwksServer {
	j := &jwksServer{keys: ownKIDs(kids)}
	j.srv = httptest.NewTLSServer(http.HandlerFunc(j.serve))
	t.Cleanup(j.srv.Close)
	return j
}

// set publishes the test keys kids, each under its own name.
func (j *jwksServer) set(down bool, kids ...string) { j.publish(down, ownKIDs(kids)...) }

// publish sets what the endpoint serves.
func (j *jwksServer) publish(down bool, keys ...servedKey) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.down, j.keys = down, keys
}

func (j *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	j.requests.Add(1)
	j.mu.Lock()
	down, keys, delay := j.down, j.keys, j.delay
	j.mu.Unlock()
	select {
	case <-time.After(delay):
	case <-r.Context().Done():
		return
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	store := jwkset.NewMemoryStorage()
	for _, k := range keys {
		pub := &shortKey().PublicKey
		if k.name != "short" {
			pub = &key(k.name).PublicKey
		}
		jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.AlgRS256, USE: cmp.Or(k.use, jwkset.UseSig), KEYOPS: k.ops}})
		if err != nil {
			panic(err)
		}
		store.KeyWrite(r.Context(), jwk)
	}
	raw, _ := store.JSONPublic(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

func (j *jwksServer) config() Config {
	return Config{Issuers: []Issuer{{URL: testIssuer, Audiences: []string{audience}, JWKSURL: j.srv.URL}}, HTTPClient: j.srv.Client(),
		RequiredClaims: []string{"name", "oid"}}
}

// staticConfig verifies the test tokens with static keys.
func staticConfig(kids ...string) Config {
	return Config{Issuers: []Issuer{staticIssuer(kids...)}}
}

// staticIssuer is the test issuer with the static keys kids.
func staticIssuer(kids ...string) Issuer {
	return Issuer{URL: testIssuer, Audiences: []string{audience}, StaticKeys: testKeys(kids...)}
}

// serve runs a TLS gRPC server (health service) behind v, then the unary
// interceptors after, and returns a client.
func serve(t testing.TB, v *Validator, after ...grpc.UnaryServerInterceptor) healthpb.HealthClient {
	t.Helper()
	return serveWith(t, grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{v.UnaryServerInterceptor()}, after...)...),
		grpc.StreamInterceptor(v.StreamServerInterceptor()))
}

// serveWith runs a TLS gRPC server with opts serving the health service,
// and returns a client.
func serveWith(t testing.TB, opts ...grpc.ServerOption) healthpb.HealthClient {
	t.Helper()
	ca := grpccredstest.NewCA(t, "ca")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{ca.Server().TLS}})
	s := grpc.NewServer(append([]grpc.ServerOption{grpc.Creds(tc)}, opts...)...)
	healthpb.RegisterHealthServer(s, health.NewServer())
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(roots, "")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// check calls Health/Check with the given authorization values.
func check(c healthpb.HealthClient, auth ...string) error {
	return checkHeader(c, "authorization", auth...)
}

// checkHeader calls Health/Check with the given values of header.
func checkHeader(c healthpb.HealthClient, header string, vals ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range vals {
		ctx = metadata.AppendToOutgoingContext(ctx, header, a)
	}
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// slow makes the endpoint answer d late.
func (j *jwksServer) slow(d time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.delay = d
}

// code is status.Code, for table tests.
func code(err error) codes.Code { return status.Code(err) }

// callAs runs v's unary interceptor for method with the bearer token tok
// and returns the handler's context, or the error.
func callAs(v *Verifier, method, tok string) (context.Context, error) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	var got context.Context
	_, err := v.UnaryServerInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
		func(ctx context.Context, _ any) (any, error) { got = ctx; return nil, nil })
	return got, err
}

// newTestLogger logs as text to w, guarded by mu.
func newTestLogger(mu *sync.Mutex, w *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu, w}, nil))
}
