package creds

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/grpccreds/grpccreds/internal/callstate"
	"github.com/grpccreds/grpccreds/internal/engine"
	"github.com/grpccreds/grpccreds/internal/header"
	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Bearer is a credentials.PerRPCCredentials that sends a token from a token
// source as "authorization: Bearer <token>" (header and scheme can be changed).
//
// Its hot path allocates nothing of its own and takes no lock: it returns a
// metadata map built once per token, which gRPC copies and never modifies.
// Pair it with tokensource.Refreshing so that fetching a token is also
// lock-free; with a plain oauth2.TokenSource each call goes to that source.
//
// A token set for one call with [Bearer.WithToken] takes the place of the
// source's token for that call. Create it with [NewBearer]; the zero value
// is not usable.
type Bearer struct {
	src   engine.ContextSource
	eng   engine.Generational // src, when its tokens are numbered
	opts  options
	cache atomic.Pointer[bearerEntry]
}

type bearerEntry struct {
	tok *oauth2.Token
	md  map[string]string
}

// NewBearer returns bearer credentials over ts. The token source is consulted
// only after the connection's security has been checked. ts may be nil: the
// Bearer then sends only the tokens set with [Bearer.WithToken], and nothing
// on other calls, as a service that forwards its callers' tokens wants.
func NewBearer(ts oauth2.TokenSource, opts ...BearerOption) *Bearer {
	o := newBearerOptions(opts)
	o.header = strings.ToLower(o.header)
	b := &Bearer{opts: o}
	if ts != nil {
		b.src = engine.AsContext(ts)
		b.eng, _ = engine.Of(ts)
	}
	return b
}

// GetRequestMetadata implements credentials.PerRPCCredentials. Over the
// refresh engine it records on the call which token generation it sent, so
// that a connection retrying an Unauthenticated call invalidates exactly that
// one, and never after a refusal made here.
func (b *Bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	st := callstate.From(ctx)
	own, hasOwn := st.Token(b)
	if !hasOwn && b.src == nil {
		return nil, nil
	}
	if err := checkTransport(ctx, b.opts.allowLoopback); err != nil {
		return nil, err
	}
	if hasOwn {
		return b.own(ctx, own)
	}
	st = st.For(b)
	tok, gen, err := b.token(ctx, st)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	md, err := b.cached(tok)
	if err == nil && st != nil {
		st.Record(gen)
	}
	return md, err
}

// token returns the token to send and its generation (0 unless the source
// numbers its tokens).
func (b *Bearer) token(ctx context.Context, st *callstate.State) (*oauth2.Token, uint64, error) {
	if b.eng == nil {
		tok, err := b.src.TokenContext(ctx)
		return tok, 0, err
	}
	var after uint64
	if st != nil {
		after = st.After
	}
	return b.eng.TokenGeneration(ctx, after)
}

// cached returns the metadata for tok, built once per token.
func (b *Bearer) cached(tok *oauth2.Token) (map[string]string, error) {
	if e := b.cache.Load(); e != nil && e.tok == tok {
		return e.md, nil
	}
	return b.remember(tok)
}

// RequireTransportSecurity reports whether the credentials need a secure
// connection. It is false only with [AllowInsecureLoopback], in which case
// each call checks what the composite.InsecureLoopback handshake found
// instead.
func (b *Bearer) RequireTransportSecurity() bool { return !b.opts.allowLoopback }

// String describes the credentials without the token.
func (b *Bearer) String() string {
	return fmt.Sprintf("creds.Bearer{header: %s, scheme: %q, source: %T}", b.opts.header, b.opts.scheme, b.src)
}

// GoString is String, so %#v cannot print the token either.
func (b *Bearer) GoString() string { return b.String() }

func (b *Bearer) remember(tok *oauth2.Token) (map[string]string, error) {
	md, err := b.metadata(tok.AccessToken)
	if err != nil {
		return nil, err
	}
	b.cache.Store(&bearerEntry{tok: tok, md: md})
	return md, nil
}

func (b *Bearer) metadata(token string) (map[string]string, error) {
	if err := header.CheckKey(b.opts.header); err != nil {
		return nil, status.Errorf(codes.Internal, "creds: bearer header: %v", err)
	}
	if err := header.CheckValue(token); err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "creds: unusable access token: token %v", err)
	}
	v := token
	if b.opts.scheme != "" {
		v = b.opts.scheme + " " + token
	}
	return map[string]string{b.opts.header: v}, nil
}
