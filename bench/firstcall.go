package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"cloud.google.com/go/auth"
	"github.com/grpccreds/grpccreds/composite"
	"github.com/grpccreds/grpccreds/connection"
	"github.com/grpccreds/grpccreds/grpccredstest"
	"github.com/grpccreds/grpccreds/internal/programtb"
	"github.com/grpccreds/grpccreds/internal/testjwt"
	"github.com/grpccreds/grpccreds/tokensource"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/oauth"
)

// RTTs is one setting of the first-call table: the round trips to the gRPC
// server and to the token endpoint.
type RTTs struct{ Server, IdP time.Duration }

// FirstCallResult holds milliseconds per round: Connect, the first call of
// a fresh connection without credentials; RPC, the fastest of three warm
// calls; Fetch, one token request over a fresh HTTPS connection; and Libs,
// each library's first call on a fresh connection, timed from before the
// connection is made.
type FirstCallResult struct {
	Connect, RPC, Fetch Samples
	Libs                map[string]Samples
}

// Bound is the overlap bound, of medians: max(connect − rpc, fetch) + rpc,
// what a first call costs when connecting and fetching overlap fully.
func (r FirstCallResult) Bound() float64 {
	rpc := r.RPC.Median()
	return max(r.Connect.Median()-rpc, r.Fetch.Median()) + rpc
}

// Dialer makes a connection to target (a proxy), trusting caPEM, whose
// calls carry tokens fetched with cfg over the HTTP client in ctx. The
// returned func closes it.
type Dialer func(ctx context.Context, target string, caPEM []byte, cfg *clientcredentials.Config) (grpc.ClientConnInterface, func())

// FirstCallLib is one library of the first-call table.
type FirstCallLib struct {
	Name string
	Dial Dialer
}

// FirstCallLibs are grpccreds (by default, and with WithLazyStart) and the
// anchors, all fetching with the same clientcredentials.Config.
var FirstCallLibs = []FirstCallLib{
	{"grpccreds", ours()},
	{"grpccreds, WithLazyStart", ours(connection.WithLazyStart())},
	{OAuthReuse.Name, grpcDialer(func(ctx context.Context, cfg *clientcredentials.Config) grpc.DialOption {
		return grpc.WithPerRPCCredentials(oauth.TokenSource{TokenSource: oauth2.ReuseTokenSource(nil, cfg.TokenSource(ctx))})
	})},
	{GoogleAuth.Name, grpcDialer(func(ctx context.Context, cfg *clientcredentials.Config) grpc.DialOption {
		tp := auth.NewCachedTokenProvider(googleProvider(func() (*auth.Token, error) {
			t, err := cfg.Token(ctx)
			if err != nil {
				return nil, err
			}
			return &auth.Token{Value: t.AccessToken, Type: "Bearer", Expiry: t.Expiry}, nil
		}), nil)
		return grpc.WithPerRPCCredentials(&googleCreds{creds: auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: tp})})
	})},
}

func ours(opts ...connection.SourceOption) Dialer {
	return func(ctx context.Context, target string, caPEM []byte, cfg *clientcredentials.Config) (grpc.ClientConnInterface, func()) {
		c, err := connection.WithTokenSource(target, caPEM, tokensource.ClientCredentials(ctx, cfg), opts...)
		if err != nil {
			panic(err)
		}
		return c, func() { c.Close() }
	}
}

// grpcDialer dials with grpc.NewClient and the call credentials creds makes.
func grpcDialer(creds func(context.Context, *clientcredentials.Config) grpc.DialOption) Dialer {
	return func(ctx context.Context, target string, caPEM []byte, cfg *clientcredentials.Config) (grpc.ClientConnInterface, func()) {
		tc, err := composite.TLS(caPEM)
		if err != nil {
			panic(err)
		}
		cc, err := grpc.NewClient(target, grpc.WithTransportCredentials(tc), creds(ctx, cfg))
		if err != nil {
			panic(err)
		}
		return cc, func() { cc.Close() }
	}
}

// firstCallRig is a gRPC server and an HTTPS token endpoint, each behind a
// DelayProxy.
type firstCallRig struct {
	srv    *grpccredstest.Server
	idp    *httptest.Server
	sp, ip *DelayProxy
	cfg    *clientcredentials.Config
	tb     *programtb.T
}

func newFirstCallRig(rtt RTTs) *firstCallRig {
	r := &firstCallRig{tb: programtb.New()}
	r.srv = grpccredstest.NewServer(r.tb, grpccredstest.ServerConfig{NoRecord: true})
	r.idp = httptest.NewTLSServer(tokenHandler(testjwt.Mint(time.Now().Add(24*time.Hour), nil)))
	r.sp, r.ip = mustProxy(r.srv.Addr, rtt.Server), mustProxy(r.idp.Listener.Addr().String(), rtt.IdP)
	r.cfg = &clientcredentials.Config{ClientID: "bench", ClientSecret: "secret", TokenURL: "https://" + r.ip.Addr + "/token", AuthStyle: oauth2.AuthStyleInParams}
	return r
}

func (r *firstCallRig) Close() {
	r.sp.Close()
	r.ip.Close()
	r.idp.Close()
	r.tb.Close()
}

func mustProxy(target string, rtt time.Duration) *DelayProxy {
	p, err := NewDelayProxy(target, rtt)
	if err != nil {
		panic(err)
	}
	return p
}

// tokenHandler answers every request with tok, valid for an hour.
func tokenHandler(tok string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
	})
}

// fresh returns a context carrying an HTTP client with no connections yet,
// and the func that closes its idle connections.
func (r *firstCallRig) fresh() (context.Context, func()) {
	tr := &http.Transport{TLSClientConfig: r.idp.Client().Transport.(*http.Transport).TLSClientConfig.Clone(), ForceAttemptHTTP2: true}
	return context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr}), tr.CloseIdleConnections
}

// FirstCall measures the first call on a fresh connection, with the round
// trips rtt injected, over rounds interleaved rounds.
func FirstCall(rtt RTTs, libs []FirstCallLib, rounds int) FirstCallResult {
	r := newFirstCallRig(rtt)
	defer r.Close()
	res := FirstCallResult{Libs: map[string]Samples{}}
	for range rounds {
		c, w := r.connect()
		res.Connect, res.RPC = append(res.Connect, c), append(res.RPC, w)
		res.Fetch = append(res.Fetch, r.fetch())
		for _, l := range libs {
			res.Libs[l.Name] = append(res.Libs[l.Name], r.first(l.Dial))
		}
	}
	return res
}

// connect times a credential-less first call and the fastest of three warm
// calls, in milliseconds.
func (r *firstCallRig) connect() (first, warm float64) {
	tc, _ := tlsCreds(r.srv)
	cc, err := grpc.NewClient(r.sp.Addr, grpc.WithTransportCredentials(tc))
	if err != nil {
		panic(err)
	}
	defer cc.Close()
	first = timed(healthCall(cc, context.Background()))
	warm = first
	for range 3 {
		warm = min(warm, timed(healthCall(cc, context.Background())))
	}
	return first, warm
}

// fetch times one token request over a fresh connection, in milliseconds.
func (r *firstCallRig) fetch() float64 {
	ctx, done := r.fresh()
	defer done()
	return timed(func() error {
		_, err := r.cfg.Token(ctx)
		return err
	})
}

// first times making a connection with dial and its first call, in
// milliseconds.
func (r *firstCallRig) first(dial Dialer) float64 {
	ctx, done := r.fresh()
	defer done()
	var stop func()
	d := timed(func() error {
		var cc grpc.ClientConnInterface
		cc, stop = dial(ctx, r.sp.Addr, r.srv.CA.PEM, r.cfg)
		return healthCall(cc, context.Background())()
	})
	stop()
	return d
}

// timed runs f and returns how long it took in milliseconds; f must succeed.
func timed(f func() error) float64 {
	start := time.Now()
	if err := f(); err != nil {
		panic(err)
	}
	return float64(time.Since(start).Microseconds()) / 1000
}
